import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ttsSchema } from '../../../src/config/tts_schema.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { ensureKokoroFixture } from '../../../src/tts/kokoro/fixture/cache.ts';
import { KOKORO_REPO_ID } from '../../../src/tts/kokoro/location.ts';
import { espeakVoiceFor, openVoiceEngine } from '../../../src/tts/kokoro/startup.ts';
import type { VoiceEngine } from '../../../src/tts/select.ts';
import type { Synthesizer } from '../../../src/tts/synthesizer.ts';
import { startFakeHub, type FakeHub, type FakeHubFile } from '../pull/fake_hub.ts';

// Startup's voice engine with the Kokoro hook: present folder -> Kokoro at once (with the espeak fallback and
// its metric); empty folder under `earshot serve` -> espeak now, Kokoro after the background fetch.

const log = { info: () => undefined, warn: () => undefined };
const made: string[] = [];
let hub: FakeHub | undefined;
let opened: VoiceEngine | undefined;
afterEach(async () => {
  await opened?.synthesizer?.close();
  opened = undefined;
  await hub?.close();
  hub = undefined;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-kokoro-start-'));
  made.push(dir);
  return join(dir, 'kokoro');
}

describe('openVoiceEngine with the Kokoro hook', () => {
  it('uses Kokoro when its folder is present, and counts answers handed to espeak in the metric', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const tts = ttsSchema.parse({
      kokoro: { dir: ensureKokoroFixture(), auto_pull: false, max_rtf: 1e-9, intra_op_threads: 1 },
    });
    opened = await openVoiceEngine(tts, { log, metrics, env: {} });
    expect(opened.status.engine).toBe('kokoro');
    const rates: number[] = [];
    for await (const c of opened.synthesizer!.synthesize({
      text: 'Too slow for real time here.',
      voice: 'af_heart',
      speed: 1,
      signal: new AbortController().signal,
    }))
      rates.push(c.sampleRateHz);
    expect(rates.length).toBeGreaterThan(0);
    expect(new Set(rates)).toEqual(new Set([22_050]));
    expect(await metrics.registry.getSingleMetricAsString('earshot_tts_kokoro_fallbacks_total')).toContain(
      'earshot_tts_kokoro_fallbacks_total{reason="warmup_slow"} 1',
    );
  });

  it('maps Kokoro voices to espeak voices for the fallback', () => {
    const tts = ttsSchema.parse({});
    expect(espeakVoiceFor(tts, 'af_heart')).toBe('en-us'); // alloy's pair in the default table
    expect(espeakVoiceFor(tts, 'bm_daniel')).toBe('en-gb+m3');
    expect(espeakVoiceFor(tts, 'af_zzz')).toBe('en-us+f3');
  });

  it('tts.engine kokoro without files and without a fetch: no engine, E_TTS_UNAVAILABLE', async () => {
    const tts = ttsSchema.parse({ engine: 'kokoro', kokoro: { dir: emptyDir() } });
    opened = await openVoiceEngine(tts, { log, metrics: createMetrics({ collectProcessMetrics: false }), env: {} });
    expect(opened.synthesizer).toBeNull();
    expect(opened.unavailable?.code).toBe('E_TTS_UNAVAILABLE');
  });

  it('serve with an empty folder: espeak first, Kokoro in place after the background fetch', async () => {
    const fixture = ensureKokoroFixture();
    const files: Record<string, FakeHubFile> = {};
    for (const e of readdirSync(fixture, { recursive: true, withFileTypes: true })) {
      const rel = relative(fixture, join(e.parentPath, e.name));
      if (e.isFile() && !rel.startsWith('.')) files[rel] = { content: readFileSync(join(fixture, rel)), lfs: true };
    }
    hub = await startFakeHub({ repo: KOKORO_REPO_ID, files });
    const tts = ttsSchema.parse({ kokoro: { dir: emptyDir(), pull_precisions: ['q8'], intra_op_threads: 1 } });
    let ready: (s: Synthesizer) => void = () => undefined;
    const arrived = new Promise<Synthesizer>((resolve) => (ready = resolve));
    opened = await openVoiceEngine(tts, {
      log,
      metrics: createMetrics({ collectProcessMetrics: false }),
      env: {},
      onKokoroReady: (s) => ready(s),
      autoPull: {
        endpoint: hub.endpoint,
        pullTimeouts: {
          connectTimeoutMs: 2_000,
          stallTimeoutMs: 300,
          retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 },
        },
      },
    });
    expect(opened.status.engine).toBe('espeak');
    const kokoro = await arrived;
    expect(opened.synthesizer).toBe(kokoro);
    expect(opened.status.engine).toBe('kokoro');
  });
});
