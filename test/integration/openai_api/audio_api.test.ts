import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUploadAs16k } from '../../../src/audio/audio_file.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import type { RunningServer } from '../../../src/main.ts';
import { segmentOffline } from '../../../src/pipeline/offline.ts';
import { transcribeSamples } from '../../../src/transcribe/transcribe_file.ts';
import { CARD_CLIPS, continuousSpeech, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { encodeWav16kMono } from '../../helpers/speech_wav_io.ts';
import { startTestServer } from '../../helpers/test_server.ts';

// OpenAI's audio API with the official `openai` package against Earshot on the tiny generated model.
// Its words are meaningless; the checks are that every format carries the same text, that the segments
// are the VAD's utterances, and that the text equals what the engine produces for those utterances.

const CAPTION_TOKENS = 6;
let host: EngineHost;
let server: RunningServer;
let client: OpenAI;
const fixture = placeWithGaps({
  clips: [LIBRIVOX_CLIPS[3], CARD_CLIPS[2], CARD_CLIPS[0]],
  gapsMs: [600, 1200, 1500, 900],
});
const wav = () => toFile(readFileSync(fixture.wavPath), 'speech.wav', { type: 'audio/wav' });

beforeAll(async () => {
  host = createEngineHost({ modelDir: await ensureFixtureModel('tiny'), intraOpNumThreads: 1, interOpNumThreads: 1 });
  await host.ready;
  server = await startTestServer(
    { agent: { caption_max_tokens: CAPTION_TOKENS }, openai_api: { max_audio_duration_ms: 60_000 } },
    { engine: host },
  );
  client = new OpenAI({ apiKey: 'sk-earshot-test', baseURL: `${server.httpUrl}/v1`, maxRetries: 0 });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await host?.close();
});

describe('OpenAI audio API', () => {
  it('models.list names the served model', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['phi-4-multimodal-instruct']);
    expect((await client.models.retrieve('phi-4-multimodal-instruct')).owned_by).toBe('earshot');
  });

  it("every response format carries the engine's text for the VAD's utterances", async () => {
    const utterances = await segmentOffline(fixture.samples16k, defaultConfig().vad);
    expect(utterances).toHaveLength(3);
    const direct = await transcribeSamples(
      host,
      { samples16k: fixture.samples16k },
      { task: 'asr', maxNewTokens: CAPTION_TOKENS, vad: defaultConfig().vad },
    );
    const expectedText = direct
      .map((u) => u.text)
      .filter((t) => t !== '')
      .join(' ');
    expect(expectedText.length).toBeGreaterThan(0);

    const json = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'whisper-1',
      response_format: 'json',
    });
    expect(json.text).toBe(expectedText);
    expect(json.usage).toMatchObject({ type: 'tokens' });
    expect((json.usage as { output_tokens: number }).output_tokens).toBeGreaterThan(0);

    // language names the spoken language in the prompt ('Transcribe the English audio clip...'): the
    // engine is compared on that same prompt, which may change the tiny model's tokens.
    const directEn = await transcribeSamples(
      host,
      { samples16k: fixture.samples16k },
      { task: 'asr', maxNewTokens: CAPTION_TOKENS, vad: defaultConfig().vad, spokenLanguage: 'en' },
    );
    const verbose = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['segment'],
      language: 'en',
    });
    expect(verbose.text).toBe(
      directEn
        .map((u) => u.text)
        .filter((t) => t !== '')
        .join(' '),
    );
    expect(verbose.language).toBe('en');
    expect(verbose.duration).toBeCloseTo(fixture.samples16k.length / 16000, 3);
    expect(verbose.segments).toHaveLength(3);
    verbose.segments!.forEach((s, i) => {
      expect(s.start).toBeCloseTo(utterances[i].startSample / 16000, 3);
      expect(s.end).toBeCloseTo(utterances[i].endSample / 16000, 3);
      expect(s.text).toBe(directEn[i].text);
      expect(s.tokens.length).toBeGreaterThan(0);
    });

    const text = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'whisper-1',
      response_format: 'text',
    });
    expect(text).toBe(`${expectedText}\n`);
    const cues = direct.filter((u) => u.text !== '');
    const srt = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'whisper-1',
      response_format: 'srt',
    });
    expect([...srt.matchAll(/ --> /g)]).toHaveLength(cues.length);
    expect(srt).toContain(cues[0].text);
    const vtt = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'whisper-1',
      response_format: 'vtt',
    });
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect([...vtt.matchAll(/ --> /g)]).toHaveLength(cues.length);
  }, 180_000);

  it('stream: true gives transcript.text.delta events that add up to transcript.text.done', async () => {
    const json = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'gpt-4o-transcribe',
      response_format: 'json',
    });
    const stream = await client.audio.transcriptions.create({
      file: await wav(),
      model: 'gpt-4o-transcribe',
      stream: true,
    });
    const deltas: string[] = [];
    let done: { text: string; usage?: unknown } | undefined;
    for await (const event of stream) {
      if (event.type === 'transcript.text.delta') deltas.push(event.delta);
      else if (event.type === 'transcript.text.done') done = event;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(done?.text).toBe(json.text);
    expect(deltas.join('')).toBe(done?.text);
    expect(done?.usage).toMatchObject({ type: 'tokens' });
  }, 120_000);

  it("translations.create answers with the English-translation task's text", async () => {
    const translation = await client.audio.translations.create({
      file: await wav(),
      model: 'whisper-1',
      response_format: 'verbose_json',
    });
    const direct = await transcribeSamples(
      host,
      { samples16k: fixture.samples16k },
      { task: 'translate', language: 'English', maxNewTokens: CAPTION_TOKENS, vad: defaultConfig().vad },
    );
    expect(translation.text).toBe(
      direct
        .map((u) => u.text)
        .filter((t) => t !== '')
        .join(' '),
    );
    expect((translation as unknown as { segments: unknown[] }).segments).toHaveLength(3);
  }, 120_000);

  it('a long file is cut by the 40 s rule and run in order; past max_audio_duration_ms it is refused', async () => {
    const long = continuousSpeech({ seconds: 90 });
    const cut = await segmentOffline(long.samples16k.subarray(0, 50 * 16000), defaultConfig().vad);
    const file = await toFile(encodeWav16kMono(long.samples16k.subarray(0, 50 * 16000)), 'long.wav');
    const verbose = await client.audio.transcriptions.create({
      file,
      model: 'whisper-1',
      response_format: 'verbose_json',
    });
    expect(verbose.segments!.length).toBe(cut.length);
    expect(verbose.segments!.length).toBeGreaterThan(1);
    for (const s of verbose.segments!) expect(s.end - s.start).toBeLessThanOrEqual(40);
    for (let i = 1; i < verbose.segments!.length; i++)
      expect(verbose.segments![i].start).toBeGreaterThanOrEqual(verbose.segments![i - 1].end);

    const tooLong = await toFile(encodeWav16kMono(long.samples16k.subarray(0, 61 * 16000)), 'long.wav');
    const err = await client.audio.transcriptions
      .create({ file: tooLong, model: 'whisper-1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('E_AUDIO_TOO_LONG');
  }, 180_000);

  it.runIf(spawnSync('lame', ['--version'], { stdio: 'ignore' }).error === undefined)(
    'an MP3 upload is decoded and segmented like its WAV',
    async () => {
      const mp3Path = fixture.wavPath.replace(/\.wav$/, '.mp3');
      execFileSync('lame', ['--quiet', '-b', '128', fixture.wavPath, mp3Path]);
      const result = await client.audio.transcriptions.create({
        file: await toFile(readFileSync(mp3Path), 'speech.mp3', { type: 'audio/mpeg' }),
        model: 'whisper-1',
        response_format: 'verbose_json',
      });
      const decoded = await decodeUploadAs16k(readFileSync(mp3Path));
      expect(result.segments?.length).toBe((await segmentOffline(decoded.samples16k, defaultConfig().vad)).length);
    },
  );

  it('a garbage upload gets 400 E_UNSUPPORTED_FORMAT; an oversized one 413; a wrong format 400', async () => {
    const garbage = await toFile(Buffer.from('this is not audio at all, just some text bytes'), 'x.mp3');
    const err = await client.audio.transcriptions
      .create({ file: garbage, model: 'whisper-1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('E_UNSUPPORTED_FORMAT');

    const small = await startTestServer({ openai_api: { max_upload_bytes: 1000 } }, { engine: host });
    try {
      const smallClient = new OpenAI({ apiKey: 'x', baseURL: `${small.httpUrl}/v1`, maxRetries: 0 });
      const big = await smallClient.audio.transcriptions
        .create({ file: await wav(), model: 'whisper-1' })
        .catch((e: unknown) => e);
      expect((big as { status: number }).status).toBe(413);
      expect((big as { code: string }).code).toBe('E_PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
    const format = await client.audio.transcriptions
      .create({ file: await wav(), model: 'whisper-1', response_format: 'mp3' as never })
      .catch((e: unknown) => e);
    expect((format as { status: number; param: string }).param).toBe('response_format');
    const words = await client.audio.transcriptions
      .create({
        file: await wav(),
        model: 'whisper-1',
        response_format: 'verbose_json',
        timestamp_granularities: ['word'],
      })
      .catch((e: unknown) => e);
    expect((words as { code: string }).code).toBe('E_UNSUPPORTED_FEATURE');
    const raw = await fetch(`${server.httpUrl}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(raw.status).toBe(415);
  }, 120_000);

  it('with API keys configured a request without a key is refused with 401', async () => {
    const keyed = await startTestServer({ auth: { api_keys: ['sk-earshot-openai-api-test-key'] } }, { engine: host });
    try {
      const anon = new OpenAI({ apiKey: 'sk-wrong-key-wrong-key', baseURL: `${keyed.httpUrl}/v1`, maxRetries: 0 });
      const err = await anon.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      const ok = new OpenAI({
        apiKey: 'sk-earshot-openai-api-test-key',
        baseURL: `${keyed.httpUrl}/v1`,
        maxRetries: 0,
      });
      const json = await ok.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' });
      expect(json.text.length).toBeGreaterThan(0);
    } finally {
      await keyed.close();
    }
  }, 120_000);

  it('admission: an API request takes a session slot; at max_sessions it is refused with 503 E_CAPACITY and Retry-After', async () => {
    const full = await startTestServer({ limits: { max_sessions: 1 } }, { engine: host });
    const { TestClient } = await import('../../helpers/ws_client.ts');
    const ws = await TestClient.connect(full.url);
    try {
      await ws.waitFor((e) => e.type === 'session.created', 10_000);
      const res = await fetch(`${full.httpUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_CAPACITY');
      const fullClient = new OpenAI({ apiKey: 'x', baseURL: `${full.httpUrl}/v1`, maxRetries: 0 });
      const err = await fullClient.audio.transcriptions
        .create({ file: await wav(), model: 'whisper-1' })
        .catch((e: unknown) => e);
      expect((err as { status: number; code: string }).code).toBe('E_CAPACITY');
      // The listing is not engine work and needs no slot.
      expect((await fullClient.models.list()).data).toHaveLength(1);
    } finally {
      await ws.close();
    }
    // The slot is back once the session is gone; the API request then runs and gives its slot back.
    await expect.poll(() => full.admission.activeSessions, { timeout: 5000 }).toBe(0);
    const ok = await new OpenAI({ apiKey: 'x', baseURL: `${full.httpUrl}/v1`, maxRetries: 0 }).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    expect(ok.choices[0].message.content!.length).toBeGreaterThan(0);
    expect(full.admission.activeSessions).toBe(0);
    await full.close();
  }, 120_000);
});
