import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotNodeClient, loadWav16k } from '../../../client/node_client.ts';
import { registerStreamCommand } from '../../../src/cli/commands/stream.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import type { RunningServer } from '../../../src/main.ts';
import { segmentEventsOffline } from '../../../src/pipeline/offline.ts';
import type { ServerEvent } from '../../../src/protocol/server_events.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';

// The Node client and `earshot stream` against a real server. Today's server reports turns
// (speech_started / stopped / committed); the caption and answer assertions switch on by themselves once
// the server sends transcription or response events.

let server: RunningServer;
let wavPath: string;
let expected: { utterances: number; stops: number[] };

beforeAll(async () => {
  server = await startTestServer();
  const fixture = placeWithGaps({ clips: [LIBRIVOX_CLIPS[0], CARD_CLIPS[1]], gapsMs: [600, 1200, 900] });
  wavPath = fixture.wavPath;
  // The same audio through the offline pipeline, followed by the client's trailing silence.
  const samples = await loadWav16k(wavPath);
  const padded = new Float32Array(samples.length + 16_000);
  padded.set(samples);
  const offline = await segmentEventsOffline(padded, defaultConfig().vad);
  expected = {
    utterances: offline.filter((e) => e.type === 'utterance').length,
    stops: offline.flatMap((e) => (e.type === 'speech_stopped' ? [e.audioEndMs] : [])),
  };
});

afterAll(async () => {
  await server?.close();
});

function capture() {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } },
    out: () => out,
    err: () => err,
  };
}

describe('EarshotNodeClient', () => {
  it('streams a WAV faster than real time and iterates the turn events', async () => {
    expect(expected.utterances).toBe(2);
    const client = await EarshotNodeClient.connect({ url: server.url, mode: 'captions' });
    expect(client.session.type).toBe('transcription');
    expect(client.session.audio.input.format).toEqual({ type: 'audio/pcm', rate: 16000 });
    const events: ServerEvent[] = [];
    const reading = (async () => {
      for await (const event of client.events()) {
        events.push(event);
        if (
          event.type === 'input_audio_buffer.committed' &&
          events.filter((e) => e.type === 'input_audio_buffer.committed').length === expected.utterances
        )
          break;
      }
    })();
    const sent = await client.streamWavFile(wavPath, { trailingSilenceMs: 1000 });
    expect(sent.sentMs).toBeCloseTo(sent.fileMs + 1000, 0);
    await reading;
    const stops = events.flatMap((e) => (e.type === 'input_audio_buffer.speech_stopped' ? [e.audio_end_ms] : []));
    expect(stops).toEqual(expected.stops);
    expect(events.filter((e) => e.type === 'input_audio_buffer.speech_started')).toHaveLength(expected.utterances);
    expect(events.some((e) => e.type === 'error')).toBe(false);
    await client.close();
  });

  it('awaitInputProcessed resolves once the server has found every utterance of the audio sent', async () => {
    const client = await EarshotNodeClient.connect({ url: server.url, mode: 'captions' });
    const stops: ServerEvent[] = [];
    client.onEvent((e) => {
      if (e.type === 'input_audio_buffer.speech_stopped') stops.push(e);
    });
    // Sent as fast as the socket takes it: the server's VAD is still behind when the sending ends.
    await client.streamWavFile(wavPath, { trailingSilenceMs: 1000 });
    expect(await client.awaitInputProcessed(30_000)).toBe(true);
    expect(stops).toHaveLength(expected.utterances);
    await client.close();
  });

  it('paces audio at real time with --realtime semantics', async () => {
    const client = await EarshotNodeClient.connect({
      url: server.url.replace('ws://', 'http://').replace('/v1/realtime', ''),
    });
    const samples = new Float32Array(8000); // 0.5 s
    const result = await client.streamSamples(samples, { realtime: true, chunkMs: 20, trailingSilenceMs: 0 });
    // The last 20 ms chunk is due at 480 ms; sending all of it cannot be faster than that.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(470);
    await client.close();
  });

  it('fails with E_CONNECT_FAILED when nothing listens', async () => {
    await expect(
      EarshotNodeClient.connect({ url: 'ws://127.0.0.1:1/v1/realtime', connectTimeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'E_CONNECT_FAILED' });
  });
});

describe('earshot stream', () => {
  async function run(args: string[]) {
    const c = capture();
    const program = new Command('earshot').exitOverride();
    registerStreamCommand(program, c.io);
    process.exitCode = undefined;
    await program.parseAsync(['node', 'earshot', 'stream', ...args]);
    const code = process.exitCode ?? 0;
    process.exitCode = undefined;
    return { code, out: c.out(), err: c.err() };
  }

  it('prints JSON lines: one utterance per VAD segment, captions when the server transcribes, and a summary', async () => {
    const { code, out, err } = await run([
      wavPath,
      '--url',
      server.url,
      '--json',
      '--mode',
      'captions',
      '--idle-ms',
      '800',
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const records = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; [k: string]: unknown });
    const utterances = records.filter((r) => r.type === 'utterance');
    expect(utterances.map((u) => u.end_ms)).toEqual(expected.stops);
    const summary = records.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', utterances: expected.utterances });
    const captions = records.filter((r) => r.type === 'caption');
    if (captions.length > 0 || (summary.captions as number) > 0) {
      // Active once the engine transcribes: one final caption per utterance, in order, with its times.
      expect(captions).toHaveLength(expected.utterances);
      expect(captions.map((c) => c.end_ms)).toEqual(expected.stops);
      expect(summary.median_caption_latency_ms).toEqual(expect.any(Number));
    }
  });

  it('prints text lines and a summary in agent mode', async () => {
    const { code, out } = await run([wavPath, '--url', server.url, '--idle-ms', '800']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`s streamed: ${expected.utterances} utterance\\(s\\)`));
  });

  it('reports a missing file with its error code and exit code 1', async () => {
    const { code, err } = await run(['/nonexistent/file.wav', '--url', server.url]);
    expect(code).toBe(1);
    expect(err).toMatch(/^earshot: E_[A-Z_]+: /);
  });

  it('rejects translate mode without a target language', async () => {
    const { code, err } = await run([wavPath, '--url', server.url, '--mode', 'translate']);
    expect(code).toBe(1);
    expect(err).toContain('--translate-to');
  });
});
