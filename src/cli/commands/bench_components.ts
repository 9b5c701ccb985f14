// `earshot bench webrtc`, `bench vad-batching` and `bench codec`: costs of single components (call setup,
// Opus decoding, Silero batching, the protocol edge), each a function of src/bench/ printing its figures.
import type { Command } from 'commander';
import { benchCodec } from '../../bench/codec_bench.ts';
import { benchResample, type ResampleRow } from '../../bench/resample_bench.ts';
import { benchVadBatching } from '../../bench/vad_batching_bench.ts';
import { benchWebrtc } from '../../bench/webrtc_bench.ts';
import { audioOption, registerBench, sizeOption } from './bench_command.ts';

/** Component figures are named by case (`append_4mib_decode_event`): wider keys than other benches. */
const KEY_WIDTH = 32;

export function registerBenchComponentCommands(bench: Command): void {
  registerBench(bench, {
    name: 'resample',
    description:
      'Streaming resampler throughput per kernel (scalar, WebAssembly SIMD) and input rate, to 16 kHz in 20 ms chunks',
    json: 'print JSON {"audio_seconds","rows":[{"kernel","input_rate_hz","audio_s_per_cpu_s","core_pct_per_stream"}]}',
    options: [sizeOption('--seconds <s>', 'seconds of audio resampled per row', 60)],
    run: (opts: { seconds: number }) => benchResample({ audioSeconds: opts.seconds }),
    print: printResampleRows,
  });
  registerBench(bench, {
    name: 'webrtc',
    description: 'Offer-to-connected time of WebRTC calls on 127.0.0.1, and the cost of decoding 20 ms Opus packets',
    json: 'print JSON {"calls","answer_ms_p50","connect_ms_p50","client_session_created_ms_p50",...,"opus_decode"}',
    options: [
      sizeOption('--calls <n>', 'calls measured, one at a time (after 2 warm-up calls)', 10),
      sizeOption('--rounds <n>', 'times each Opus packet is decoded', 20),
      sizeOption('--seconds <s>', 'seconds of speech encoded to Opus', 20),
      audioOption(),
    ],
    run: (opts: { calls: number; rounds: number; seconds: number; audio?: string }) =>
      benchWebrtc({ calls: opts.calls, decodeRounds: opts.rounds, seconds: opts.seconds, audio: opts.audio }),
    print: 'WebRTC: call setup (ms) and Opus decoding (us per 20 ms packet)',
    keyWidth: KEY_WIDTH,
    // werift keeps timers of closed peer connections alive in this process (the peer runs in-process
    // here), so the event loop would never drain: end once the figures are written.
    exitWhenDone: true,
  });

  registerBench(bench, {
    name: 'vad-batching',
    description:
      'Silero cost per 32 ms tick run window by window, batched [B,512], and through VadBatcher, for 8/64/100 streams',
    json: 'print JSON {"ticks","one_run_per_window","one_batched_run_per_tick","through_vad_batcher"}',
    options: [sizeOption('--ticks <n>', '32 ms ticks per measurement', 200), audioOption()],
    run: (opts: { ticks: number; audio?: string }) => benchVadBatching({ ticks: opts.ticks, audio: opts.audio }),
    print: 'Silero batching: median tick time (ms) per stream count',
    keyWidth: KEY_WIDTH,
  });

  registerBench(bench, {
    name: 'codec',
    description: 'Cost of decoding client events (4 MiB and 20 ms appends, session.update): p50/p99 us per event',
    json: 'print JSON {"<case>": {"iterations","us_p50","us_p99"}, ...}',
    options: [sizeOption('--iterations <n>', 'timed iterations per typical case (the 4 MiB cases run a tenth)', 2000)],
    run: (opts: { iterations: number }) => benchCodec({ iterations: opts.iterations }),
    print: 'Protocol edge: us per client event',
    keyWidth: KEY_WIDTH,
  });
}

function printResampleRows(result: { rows: ResampleRow[] }): void {
  process.stdout.write('Resampler: seconds of audio per CPU second (% of a core per live stream)\n');
  for (const r of result.rows)
    process.stdout.write(
      `  ${r.kernel.padEnd(6)} ${String(r.input_rate_hz).padStart(5)} Hz: ${r.audio_s_per_cpu_s} (${r.core_pct_per_stream} %)\n`,
    );
}
