import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../../../src/config/schema.ts';
import { EarshotError } from '../../../src/errors.ts';
import { RemoteSynthesizer, REMOTE_PCM_RATE_HZ, speechEndpoint } from '../../../src/tts/remote_synthesizer.ts';
import { PipelinedSpeechStream } from '../../../src/tts/speech_stream.ts';
import {
  startFakeSpeechServer,
  type FakeSpeechServer,
  type FakeSpeechServerOptions,
} from '../../helpers/fake_speech_server.ts';
import { collect, concatInt16, rms, synthesizeAll } from '../../helpers/tts_audio.ts';

const config = defaultConfig().tts;
let server: FakeSpeechServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function remote(serverOptions: FakeSpeechServerOptions = {}, over: Partial<typeof config.remote> = {}) {
  server = await startFakeSpeechServer(serverOptions);
  return new RemoteSynthesizer({
    ...config.remote,
    ...over,
    url: server.baseUrl,
    maxInputChars: config.max_input_chars,
  });
}

async function errorOf(promise: Promise<unknown>): Promise<EarshotError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EarshotError);
  return err as EarshotError;
}

describe('RemoteSynthesizer against a loopback OpenAI-style speech server', () => {
  it('joins the endpoint path onto the base URL', () => {
    expect(speechEndpoint('http://h:8880/v1/')).toBe('http://h:8880/v1/audio/speech');
  });

  it('posts {model, input, voice, response_format: pcm, speed} with the key and streams the 24 kHz samples', async () => {
    const synth = await remote({ samplesPerChar: 100 }, { api_key: 'sk-test', model: 'kokoro' });
    const { pcm, chunks } = await synthesizeAll(synth, 'Hello from afar.', 'af_heart', 1.25);
    expect(server!.requests[0].body).toEqual({
      model: 'kokoro',
      input: 'Hello from afar.',
      voice: 'af_heart',
      response_format: 'pcm',
      speed: 1.25,
    });
    expect(server!.requests[0].authorization).toBe('Bearer sk-test');
    expect(pcm.length).toBe('Hello from afar.'.length * 100); // odd-sized pieces reassembled, no byte lost
    expect(chunks.every((c) => c.sampleRateHz === REMOTE_PCM_RATE_HZ)).toBe(true);
    expect(chunks.length).toBeGreaterThan(1);
    expect(rms(pcm)).toBeGreaterThan(4000);
  });

  it('one request per sentence, the next requested while the previous still streams (pipelined)', async () => {
    const synth = await remote({ pieces: 6, pieceGapMs: 40 });
    const stream = new PipelinedSpeechStream({ synthesizer: synth, voice: 'alloy', speed: 1, bounds: config.stream });
    const audio = collect(stream.audio);
    stream.push('The first sentence is here. The second one follows. And a third.');
    stream.end();
    const pcm = concatInt16(await audio);
    const reqs = server!.requests;
    expect(reqs.map((r) => r.body.input)).toEqual([
      'The first sentence is here.',
      'The second one follows.',
      'And a third.',
    ]);
    expect(reqs[1].startedAtMs).toBeLessThan(reqs[0].finishedAtMs!);
    // ...but only once the first one produces audio, so it has the CPU to itself until then.
    expect(reqs[1].startedAtMs).toBeGreaterThanOrEqual(reqs[0].firstPieceAtMs!);
    expect(pcm.length).toBe(reqs.reduce((n, r) => n + r.bytesSent / 2, 0));
  });

  it('cancel aborts every in-flight request at once', async () => {
    const synth = await remote({ pieces: 20, pieceGapMs: 50 });
    const stream = new PipelinedSpeechStream({ synthesizer: synth, voice: 'alloy', speed: 1, bounds: config.stream });
    const it = stream.audio[Symbol.asyncIterator]();
    stream.push('The first sentence is here. The second one follows. And a third one.');
    await it.next();
    stream.cancel();
    expect((await it.next()).done).toBe(true);
    await vi.waitFor(() => expect(synth.activeRequests).toBe(0));
    await vi.waitFor(() =>
      expect(server!.requests.filter((r) => r.abortedAtMs !== null).length).toBe(server!.requests.length),
    );
    expect(server!.requests.every((r) => r.finishedAtMs === null)).toBe(true);
  });

  it('a consumer that stops reading early aborts the requests, even after end()', async () => {
    const synth = await remote({ pieces: 20, pieceGapMs: 50 });
    const stream = new PipelinedSpeechStream({ synthesizer: synth, voice: 'alloy', speed: 1, bounds: config.stream });
    stream.push('The first sentence is here. The second one follows. And a third one.');
    stream.end();
    for await (const chunk of stream.audio) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await vi.waitFor(() => expect(server!.requests.length).toBeGreaterThan(0));
    await vi.waitFor(() => expect(server!.requests.every((r) => r.abortedAtMs !== null)).toBe(true));
    await vi.waitFor(() => expect(synth.activeRequests).toBe(0));
  });

  it('maps HTTP errors to E_TTS_REMOTE with the server message; 5xx and 429 are retryable', async () => {
    const unauthorized = await errorOf(
      synthesizeAll(await remote({ failWith: { status: 401, message: 'bad key' } }), 'Hi there.'),
    );
    expect(unauthorized).toMatchObject({ code: 'E_TTS_REMOTE', retryable: false });
    expect(unauthorized.message).toMatch(/HTTP 401: bad key/);
    await server!.close();
    const busy = await errorOf(
      synthesizeAll(await remote({ failWith: { status: 503, message: 'busy' } }), 'Hi there.'),
    );
    expect(busy).toMatchObject({ code: 'E_TTS_REMOTE', retryable: true });
  });

  it('a server that cannot be reached, answers too late, or stalls mid-stream fails with E_TTS_REMOTE', async () => {
    const closed = await remote();
    await server!.close();
    expect((await errorOf(synthesizeAll(closed, 'Hi there.'))).message).toMatch(/could not be reached/);
    const late = await remote({ headerDelayMs: 1000 }, { request_timeout_ms: 100 });
    expect((await errorOf(synthesizeAll(late, 'Hi there.'))).message).toMatch(/request_timeout_ms/);
    await server!.close();
    const stalled = await remote({ stallAfterFirstPiece: true }, { stream_idle_timeout_ms: 100 });
    expect((await errorOf(synthesizeAll(stalled, 'Hi there.'))).message).toMatch(/stream_idle_timeout_ms/);
  });
});
