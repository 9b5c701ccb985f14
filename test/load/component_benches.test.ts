// `earshot bench webrtc`, `bench vad-batching`, `bench codec` and `bench resample` with tiny sizes: every figure is measured
// (a finite number; durations positive). No speed is asserted: benchmarks report, tests do not time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POCKETSPHINX_LIBRIVOX_DIR } from '../../src/bench/bench_audio.ts';
import { benchCodec } from '../../src/bench/codec_bench.ts';
import { benchResample } from '../../src/bench/resample_bench.ts';
import { benchVadBatching } from '../../src/bench/vad_batching_bench.ts';
import { benchWebrtc } from '../../src/bench/webrtc_bench.ts';

const BIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'earshot.mjs');
const speechInstalled = existsSync(POCKETSPHINX_LIBRIVOX_DIR);

function expectPositive(figures: Record<string, unknown>, keys: string[]): void {
  for (const key of keys) {
    const v = figures[key];
    expect(typeof v === 'number' && Number.isFinite(v) && v > 0, `${key} = ${v}`).toBe(true);
  }
}

describe('bench resample', () => {
  it('measures both kernels at every input rate', () => {
    const result = benchResample({ audioSeconds: 1 });
    expect(result.rows.map((r) => r.kernel)).toEqual([
      ...Array(result.rows.length / 2).fill('scalar'),
      ...Array(result.rows.length / 2).fill('simd'),
    ]);
    for (const row of result.rows) expectPositive({ ...row }, ['audio_s_per_cpu_s', 'core_pct_per_stream']);
  });
});

describe('bench codec', () => {
  it('measures every case', () => {
    const result = benchCodec({ iterations: 20 });
    expect(Object.keys(result).length).toBe(5);
    for (const figures of Object.values(result)) {
      expectPositive({ ...figures }, ['us_p50', 'us_p99']);
      expect(figures.us_p99).toBeGreaterThanOrEqual(figures.us_p50);
    }
    expect(result.append_4mib_decode_event.iterations).toBe(3);
  });

  it('is `earshot bench codec --json`', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', 'codec', '--json', '--iterations', '10'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, { us_p50: number }>;
    expect(Number.isFinite(result.session_update.us_p50)).toBe(true);
  });
});

describe.skipIf(!speechInstalled)('bench vad-batching', () => {
  it('measures window-by-window, batched and VadBatcher ticks', async () => {
    const result = await benchVadBatching({ ticks: 3, streamCounts: [2, 3], maxBatchStreams: 2 });
    expect(result.one_run_per_window.map((r) => r.streams)).toEqual([1, 2, 3]);
    const rows = [...result.one_run_per_window, ...result.one_batched_run_per_tick, ...result.through_vad_batcher];
    for (const row of rows) expectPositive({ ...row }, ['tick_ms_p50', 'window_us', 'realtime_core_pct']);
    // 3 streams with at most 2 per run: the batcher needs 2 runs a tick.
    expect(result.through_vad_batcher.map((r) => r.runs_per_tick)).toEqual([1, 2]);
  });
});

describe.skipIf(!speechInstalled)('bench webrtc', () => {
  it('measures call setup and Opus decoding', async () => {
    const result = await benchWebrtc({ calls: 1, decodeRounds: 1, seconds: 1 });
    expect(result.calls).toBe(1);
    expectPositive({ ...result }, [
      'answer_ms_p50',
      'connect_ms_p50',
      'client_session_created_ms_p50',
      'client_session_created_ms_max',
    ]);
    expect(result.opus_decode.map((d) => d.bitrate_bps)).toEqual([32_000, 64_000]);
    for (const d of result.opus_decode) {
      expect(d.packets).toBe(50);
      expectPositive({ ...d }, ['decode_us_per_packet', 'decode_core_pct_per_call', 'plc_us_per_20ms']);
    }
  });
});
