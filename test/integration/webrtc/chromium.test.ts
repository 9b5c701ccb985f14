import type { Browser } from 'playwright-core';
import { launchChromiumWithMicrophone } from '../../helpers/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/schema.ts';
import { segmentEventsOffline } from '../../../src/pipeline/offline.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { chromiumAvailable } from '../../helpers/webrtc_opus_fixtures.ts';
import { startWebRtcTestServer, type WebRtcTestServer } from '../../helpers/webrtc_server.ts';

// The transport against a real browser: Chromium (fake microphone playing a speech WAV) calls the route
// the way OpenAI's browser clients do, with no TURN/STUN and 127.0.0.1 candidates.

// Plain JavaScript in the page (a string, so the test transpiler adds no helpers).
const CALL_SCRIPT = `
window.startCall = async () => {
  const started = performance.now();
  const pc = new RTCPeerConnection();
  const events = [];
  window.callEvents = events;
  const channel = pc.createDataChannel('oai-events');
  channel.onmessage = (m) => events.push(JSON.parse(m.data));
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  await pc.setLocalDescription(await pc.createOffer());
  const response = await fetch('/v1/realtime/calls', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (response.status !== 201) throw new Error('call refused ' + response.status + ' ' + (await response.text()));
  const callId = response.headers.get('location').split('/').pop();
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  await new Promise((resolve) => (channel.readyState === 'open' ? resolve() : (channel.onopen = resolve)));
  window.callChannel = channel;
  return { callId, connectMs: performance.now() - started };
};
`;

type Turn = [string, number];

describe.skipIf(!chromiumAvailable())('WebRTC calls from Chromium', () => {
  let server: WebRtcTestServer;
  let browser: Browser;
  const fixture = placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [2000, 1200], noiseLevel: 0.002 });

  beforeAll(async () => {
    server = await startWebRtcTestServer();
    browser = await launchChromiumWithMicrophone(fixture.wavPath);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('connects, carries events, and its microphone audio yields the WAV utterance within 50 ms', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.baseUrl}/healthz`); // same origin as the route; 127.0.0.1 is a secure context
    await page.addScriptTag({ content: CALL_SCRIPT });
    const { callId } = (await page.evaluate('window.startCall()')) as { callId: string; connectMs: number };
    expect(server.route.getCall(callId)?.timings.connectMs).toBeGreaterThan(0);
    await page.evaluate(
      `window.callChannel.send(JSON.stringify({ type: 'session.update', session: { instructions: 'hi' } }))`,
    );
    const waitEvent = async (type: string, count = 1) => {
      await page.waitForFunction(
        `window.callEvents.filter((e) => e.type === '${type}').length >= ${count}`,
        undefined,
        { timeout: 15_000 },
      );
    };
    await waitEvent('session.updated');
    await waitEvent('input_audio_buffer.committed');
    const events = (await page.evaluate('window.callEvents')) as {
      type: string;
      audio_start_ms?: number;
      audio_end_ms?: number;
    }[];
    const live: Turn[] = events
      .filter((e) => e.type === 'input_audio_buffer.speech_started' || e.type === 'input_audio_buffer.speech_stopped')
      .map((e) =>
        e.type === 'input_audio_buffer.speech_started' ? ['started', e.audio_start_ms!] : ['stopped', e.audio_end_ms!],
      );
    const offline = await segmentEventsOffline(fixture.samples16k, defaultConfig().vad);
    const reference: Turn[] = offline.flatMap((e): Turn[] =>
      e.type === 'speech_started'
        ? [['started', e.audioStartMs]]
        : e.type === 'speech_stopped'
          ? [['stopped', e.audioEndMs]]
          : [],
    );
    const stats = server.route.getCall(callId)!.inputStats!;
    expect(stats.decodeErrors).toBe(0);
    expect(live.map(([kind]) => kind)).toEqual(['started', 'stopped']);
    expect(reference.map(([kind]) => kind)).toEqual(['started', 'stopped']);
    // The fake microphone starts playing at getUserMedia, before the call connects: find where in the WAV
    // the server's audio begins, then compare on the WAV's timeline.
    const heard = server.audioOf(callId);
    const { lagSamples, correlation } = alignment(fixture.samples16k, heard);
    const shiftMs = lagSamples / 16;
    // Waveform match (Chrome's capture resampling + Opus at its default bitrate): 0.82-0.90 in speech.
    expect(correlation).toBeGreaterThan(0.8);
    live.forEach(([, ms], i) => expect(Math.abs(ms + shiftMs - reference[i][1])).toBeLessThanOrEqual(50));
    await page.close();
  });
});

/** Where `heard` starts inside `source` (coarse search on 2 kHz envelopes, then exact at 16 kHz) and how well they match there. */
function alignment(source: Float32Array, heard: Float32Array): { lagSamples: number; correlation: number } {
  const correlate = (lag: number, step: number) => {
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < heard.length && i + lag < source.length; i += step) {
      dot += heard[i] * source[i + lag];
      a += heard[i] * heard[i];
      b += source[i + lag] * source[i + lag];
    }
    return dot / Math.sqrt(a * b || 1);
  };
  let best = 0;
  let bestLag = 0;
  for (let lag = 0; lag < 16_000 * 2; lag += 8) {
    const c = correlate(lag, 8);
    if (c > best) [best, bestLag] = [c, lag];
  }
  const coarseLag = bestLag;
  best = -1;
  for (let lag = Math.max(0, coarseLag - 16); lag <= coarseLag + 16; lag++) {
    const c = correlate(lag, 1);
    if (c > best) [best, bestLag] = [c, lag];
  }
  return { lagSamples: bestLag, correlation: best };
}
