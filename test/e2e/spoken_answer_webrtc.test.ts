// Spoken answers in real Chromium over a real WebRTC call: the browser client (speaker on) types a
// message, the tiny ONNX model (biased to speakable words, its answers capped at 40 tokens) answers, espeak-ng
// speaks it, the call's sink paces it as Opus RTP, and the page plays the remote track. The page must
// receive a non-silent track whose length matches what the server sent.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentServices } from '../../src/agent/create_services.ts';
import { createEngineHost, type EngineHost } from '../../src/engine/engine_host.ts';
import { configSchema } from '../../src/config/schema.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { EspeakSynthesizer } from '../../src/tts/espeak_synthesizer.ts';
import { launchChromiumWithMicrophone } from '../helpers/chromium.ts';
import { favouringFixtureModel } from '../helpers/biased_fixture.ts';
import { SPEAKABLE_TOKEN_IDS } from '../integration/tts/spoken_server.ts';
import { encodeWav16kMono } from '../helpers/speech_wav_io.ts';
import { CHROMIUM_PATH } from '../helpers/webrtc_opus_fixtures.ts';

const espeakInstalled = spawnSync('espeak-ng', ['--version']).status === 0;
const runnable = existsSync(CHROMIUM_PATH) && espeakInstalled;
/** Packets received vs frames sent: the page's statistics may miss at most this many in-flight frames. */
const PACKET_TOLERANCE_FRAMES = 3;

let server: RunningServer & { closeServices(): void };
let browser: Browser;
let host: EngineHost | undefined;

beforeAll(async () => {
  if (!runnable) return;
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    store: { path: ':memory:' },
    limits: { max_event_loop_delay_ms: 0, max_vad_lag_ms: 0, max_engine_wait_ms: 0, admission_max_utilization: 0 },
    agent: { max_output_tokens: 40 },
  });
  const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-agent-')) });
  const synthesizer = new EspeakSynthesizer({ ...config.tts.espeak, maxInputChars: config.tts.max_input_chars });
  host = createEngineHost({
    modelDir: await favouringFixtureModel(SPEAKABLE_TOKEN_IDS),
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const running = await startServer(config, createLogger('silent'), {
    engine: host,
    services,
    env: {},
    voiceEngine: { synthesizer, status: { requested: 'espeak', engine: 'espeak' } },
  });
  server = { ...running, closeServices: () => services.close() };
  // The fake microphone plays silence: the only answer is the typed one.
  const wavPath = join(mkdtempSync(join(tmpdir(), 'earshot-silence-')), 'silence.wav');
  writeFileSync(wavPath, encodeWav16kMono(new Float32Array(16_000 * 20)));
  browser = await launchChromiumWithMicrophone(wavPath);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  server?.closeServices();
  await host?.close();
});

describe.skipIf(!runnable)('spoken answers in the browser (WebRTC)', () => {
  it('plays a non-silent remote track whose duration matches what the server sent', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${server.httpUrl}/?transport=webrtc`);
    await page.getByTestId('speaker').click();
    expect(await page.getByTestId('speaker').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('connect').click();
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('connected');
    const [callId] = server.webrtcCalls.callIds();
    const sink = server.webrtcCalls.getCall(callId)!.audioOutput!;

    await page.getByTestId('text-input').fill('what is the weather like');
    await page.getByTestId('text-send').click();
    const types = () =>
      page.evaluate(() =>
        (window as unknown as { earshot: { events: { type: string }[] } }).earshot.events.map((e) => e.type),
      );
    await expect.poll(types, { timeout: 30_000 }).toContain('output_audio_buffer.stopped');
    // Let the last packets play out and the page's statistics (polled every 250 ms) catch up.
    await page.waitForTimeout(800);

    const sentMs = sink.stats.framesSent * 20;
    const audio = page.getByTestId('speaker-audio');
    const packets = Number(await audio.getAttribute('data-packets'));
    const audibleMs = Number(await audio.getAttribute('data-audible-ms'));
    const peak = Number(await audio.getAttribute('data-peak'));
    console.log(
      `spoken answer over WebRTC: server sent ${sentMs} ms (${sink.stats.framesSent} frames); page received ${packets} packets, audible ${audibleMs} ms, peak RMS ${peak}`,
    );

    // espeak speaks this sentence for several seconds at 175 words per minute.
    expect(sentMs).toBeGreaterThan(3_000);
    // Every frame sent arrived (RTP packets counted by the browser's own statistics).
    expect(Math.abs(packets - sink.stats.framesSent)).toBeLessThanOrEqual(PACKET_TOLERANCE_FRAMES);
    // What the page heard: not silence, and as long as what was sent less the pauses between words.
    expect(peak).toBeGreaterThan(0.03);
    expect(audibleMs).toBeGreaterThan(0.5 * sentMs);
    expect(audibleMs).toBeLessThanOrEqual(sentMs + 200);

    const order = await types();
    const index = (type: string) => order.indexOf(type);
    expect(index('response.content_part.added')).toBeGreaterThanOrEqual(0);
    expect(index('output_audio_buffer.started')).toBeGreaterThan(index('response.content_part.added'));
    expect(index('output_audio_buffer.stopped')).toBeGreaterThan(index('output_audio_buffer.started'));
    expect(order).not.toContain('response.output_audio.delta'); // WebRTC audio rides the track
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000); // ~21 s in a loaded CI run: too close to the 60 s default, so it has its own bound
});
