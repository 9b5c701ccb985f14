import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeCompressed } from '../../../src/audio/compressed_audio.ts';
import { readWav } from '../../../src/audio/wav.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import type { RunningServer } from '../../../src/main.ts';
import type { EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import { mp3Available } from '../../../src/openai_api/speech_formats.ts';
import { noVoiceEngine } from '../../../src/tts/select.ts';
import { startTestServer } from '../../helpers/test_server.ts';

// POST /v1/audio/speech over a real socket with the real espeak-ng: byte counts, a valid streaming WAV,
// non-silent audio, duration that grows with the text, and the engine's process killed when the client
// disconnects. No model is loaded: speech needs none.

let server: RunningServer;
let client: OpenAI;
const SHORT = 'Hello there. This is Earshot speaking.';
const LONG = `${SHORT} It can read a much longer answer aloud, sentence by sentence, while the text is still arriving.`;

async function speech(body: unknown, srv = server): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const res = await fetch(`${srv.httpUrl}/v1/audio/speech`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

function rmsOfFloat(samples: Float32Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

beforeAll(async () => {
  server = await startTestServer({}, { engine: null });
  client = new OpenAI({ apiKey: 'sk-earshot-test', baseURL: `${server.httpUrl}/v1`, maxRetries: 0 });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

describe('POST /v1/audio/speech with espeak-ng', () => {
  it('serves a valid streaming WAV at 24 kHz through the openai package', async () => {
    expect(server.voiceEngine.status.engine).toBe('espeak');
    const res = await client.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: SHORT,
      response_format: 'wav',
    });
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const view = new DataView(bytes.buffer);
    const ascii = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
    expect([ascii(0), ascii(8), ascii(12), ascii(36)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect([
      view.getUint16(20, true),
      view.getUint16(22, true),
      view.getUint32(24, true),
      view.getUint32(28, true),
      view.getUint16(32, true),
      view.getUint16(34, true),
    ]).toEqual([1, 1, 24_000, 48_000, 2, 16]);
    const wav = readWav(bytes);
    expect(wav.sampleRateHz).toBe(24_000);
    expect(wav.channels[0].length).toBe((bytes.length - 44) / 2);
    expect(wav.channels[0].length / 24_000).toBeGreaterThan(1.5);
    expect(rmsOfFloat(wav.channels[0])).toBeGreaterThan(0.02);
  });

  it('pcm is the WAV without its header, chunked, and longer text gives proportionally more bytes', async () => {
    const wav = await speech({ input: SHORT, voice: 'alloy', response_format: 'wav' });
    const pcm = await speech({ input: SHORT, voice: 'alloy', response_format: 'pcm' });
    expect(pcm.headers.get('content-type')).toBe('audio/pcm');
    expect(pcm.headers.get('transfer-encoding')).toBe('chunked');
    expect(Buffer.from(pcm.bytes).equals(Buffer.from(wav.bytes.subarray(44)))).toBe(true); // espeak-ng is deterministic
    const long = await speech({ input: LONG, voice: 'alloy', response_format: 'pcm' });
    expect(long.bytes.length).toBeGreaterThan(pcm.bytes.length * 2);
    const fast = await speech({ input: LONG, voice: 'alloy', response_format: 'pcm', speed: 1.5 });
    expect(fast.bytes.length).toBeLessThan(long.bytes.length * 0.8);
  });

  it('mp3 (through lame) decodes to about as long as the WAV', async () => {
    if (!(await mp3Available())) {
      const res = await speech({ input: SHORT, voice: 'alloy', response_format: 'mp3' });
      expect(res.status).toBe(400);
      return;
    }
    const mp3 = await speech({ input: SHORT, voice: 'coral', response_format: 'mp3' });
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
    const decoded = await decodeCompressed(mp3.bytes, 'mp3');
    const wav = readWav((await speech({ input: SHORT, voice: 'coral', response_format: 'wav' })).bytes);
    const mp3Seconds = decoded.channels[0].length / decoded.sampleRateHz;
    const wavSeconds = wav.channels[0].length / 24_000;
    expect(Math.abs(mp3Seconds - wavSeconds)).toBeLessThan(0.15); // encoder delay and padding only
    expect(rmsOfFloat(decoded.channels[0])).toBeGreaterThan(0.02);
  });

  it('streams server-sent events with stream_format sse', async () => {
    const res = await speech({ input: SHORT, voice: 'alloy', response_format: 'pcm', stream_format: 'sse' });
    const events = Buffer.from(res.bytes)
      .toString('utf8')
      .split('\n\n')
      .filter(Boolean)
      .map((b) => JSON.parse(b.replace(/^data: /, '')));
    expect(events.at(-1)).toEqual({ type: 'speech.audio.done' });
    const audioBytes = events.slice(0, -1).reduce((n, e) => n + Buffer.from(e.audio, 'base64').length, 0);
    expect(audioBytes).toBe((await speech({ input: SHORT, voice: 'alloy', response_format: 'pcm' })).bytes.length);
  });

  it('answers invalid requests with stable codes', async () => {
    const code = async (body: unknown) => {
      const r = await speech(body);
      return [r.status, JSON.parse(Buffer.from(r.bytes).toString()).error.code];
    };
    expect(await code('{not json')).toEqual([400, 'E_INVALID_JSON']);
    expect(await code({ voice: 'alloy' })).toEqual([400, 'E_INVALID_REQUEST']);
    expect(await code({ input: 'Hi.', voice: 'alloy', speed: 9 })).toEqual([400, 'E_INVALID_REQUEST']);
    expect(await code({ input: 'Hi.', voice: 'alloy', response_format: 'opus' })).toEqual([
      400,
      'E_UNSUPPORTED_FORMAT',
    ]);
    expect(await code({ input: 'Hi.', voice: 'zz-nosuch' })).toEqual([400, 'E_TTS_VOICE']);
    expect(await code({ input: 'x'.repeat(4097), voice: 'alloy' })).toEqual([413, 'E_TEXT_TOO_LARGE']);
  });

  it('without a voice engine answers 503 E_TTS_UNAVAILABLE with the fix', async () => {
    const bare = await startTestServer(
      {},
      { engine: null, voiceEngine: noVoiceEngine(defaultConfig().tts, 'install espeak-ng (apt install espeak-ng)') },
    );
    try {
      const res = await speech({ input: 'Hi.', voice: 'alloy' }, bare);
      expect(res.status).toBe(503);
      expect(JSON.parse(Buffer.from(res.bytes).toString()).error).toMatchObject({
        code: 'E_TTS_UNAVAILABLE',
        message: expect.stringMatching(/apt install espeak-ng/),
      });
      const ready = await (await fetch(`${bare.httpUrl}/readyz`)).json();
      expect(ready).toMatchObject({ voice_engine: null, voice_engine_unavailable: expect.stringMatching(/espeak-ng/) });
    } finally {
      await bare.close();
    }
  });

  it('/readyz names the voice engine', async () => {
    expect(await (await fetch(`${server.httpUrl}/readyz`)).json()).toMatchObject({ voice_engine: 'espeak' });
  });

  it('a client that disconnects mid-answer kills the engine process', async () => {
    // espeak-ng itself finishes a sentence in milliseconds; this wrapper speaks, then stays alive like a
    // long synthesis would, so the kill on disconnect is observable.
    const dir = mkdtempSync(join(tmpdir(), 'earshot-espeak-'));
    const program = join(dir, 'slow-espeak');
    writeFileSync(
      program,
      '#!/bin/sh\n[ "$1" = --version ] && exec espeak-ng --version\nespeak-ng "$@"\nexec sleep 30\n',
    );
    chmodSync(program, 0o755);
    const slow = await startTestServer({ tts: { engine: 'espeak', espeak: { program } } as never }, { engine: null });
    try {
      expect(slow.voiceEngine.status.engine).toBe('espeak');
      const synth = slow.voiceEngine.synthesizer as EspeakSynthesizer;
      const req = request(`${slow.httpUrl}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.end(JSON.stringify({ input: LONG, voice: 'alloy', response_format: 'pcm' }));
      const res = await new Promise<import('node:http').IncomingMessage>((resolve) => req.on('response', resolve));
      await new Promise((resolve) => res.once('data', resolve)); // audio is flowing
      expect(synth.runningProcesses).toBeGreaterThan(0);
      req.destroy();
      await vi.waitFor(() => expect(synth.runningProcesses).toBe(0), { timeout: 3000, interval: 20 });
    } finally {
      await slow.close();
    }
  });
});
