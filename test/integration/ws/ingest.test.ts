import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from '../../../src/audio/g711.ts';
import { float32ToPcm16Bytes, pcm16BytesToFloat32 } from '../../../src/audio/pcm.ts';
import { resample } from '../../../src/audio/resample.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import type { RunningServer } from '../../../src/main.ts';
import { segmentEventsOffline } from '../../../src/pipeline/offline.ts';
import { LIBRIVOX_CLIPS, CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { execFileSync } from 'node:child_process';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';

// Streams real speech over the WebSocket in every input format, faster than real time and in uneven
// chunks, and checks that the turn events equal the offline pipeline's on the same decoded audio.

type FormatCase = {
  name: string;
  format: Record<string, unknown>;
  rateHz: number;
  encode: (samples: Float32Array) => Uint8Array;
  decode: (bytes: Uint8Array) => Float32Array;
  binary: boolean;
};

const CASES: FormatCase[] = [
  {
    name: 'audio/pcm 24 kHz (base64)',
    format: { type: 'audio/pcm', rate: 24000 },
    rateHz: 24000,
    encode: float32ToPcm16Bytes,
    decode: pcm16BytesToFloat32,
    binary: false,
  },
  {
    name: 'audio/pcm 16 kHz (binary frames)',
    format: { type: 'audio/pcm', rate: 16000 },
    rateHz: 16000,
    encode: float32ToPcm16Bytes,
    decode: pcm16BytesToFloat32,
    binary: true,
  },
  {
    name: 'audio/pcmu',
    format: { type: 'audio/pcmu' },
    rateHz: 8000,
    encode: encodeMuLaw,
    decode: decodeMuLaw,
    binary: false,
  },
  {
    name: 'audio/pcma',
    format: { type: 'audio/pcma' },
    rateHz: 8000,
    encode: encodeALaw,
    decode: decodeALaw,
    binary: false,
  },
];

/** The fixture at another rate, as sox (a reference resampler independent of ours) renders it. */
function soxAtRate(path: string, rateHz: number): Float32Array {
  const raw = execFileSync('sox', [
    path,
    '-t',
    'raw',
    '-r',
    String(rateHz),
    '-e',
    'signed',
    '-b',
    '16',
    '-c',
    '1',
    '-L',
    '-',
  ]);
  return pcm16BytesToFloat32(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
}

let server: RunningServer;
let wavPath: string;

beforeAll(async () => {
  server = await startTestServer();
  const fixture = placeWithGaps({
    clips: [LIBRIVOX_CLIPS[0], CARD_CLIPS[1], LIBRIVOX_CLIPS[2]],
    gapsMs: [700, 1200, 900, 1500],
  });
  wavPath = fixture.wavPath;
});

afterAll(async () => {
  await server.close();
});

/** Uneven chunk sizes from a fixed pseudo-random sequence (odd byte counts avoided only for PCM16). */
function unevenChunks(bytes: Uint8Array, bytesPerSample: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let seed = 12345;
  for (let at = 0; at < bytes.length; ) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const samples = 1 + (seed % 3000);
    const end = Math.min(bytes.length, at + samples * bytesPerSample);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  return chunks;
}

function turnEvents(events: { type: string; [k: string]: unknown }[]) {
  return events
    .filter((e) => e.type === 'input_audio_buffer.speech_started' || e.type === 'input_audio_buffer.speech_stopped')
    .map((e) =>
      e.type === 'input_audio_buffer.speech_started' ? ['started', e.audio_start_ms] : ['stopped', e.audio_end_ms],
    );
}

describe('WebSocket ingest', () => {
  for (const c of CASES) {
    it(`gives the offline pipeline's turn events for ${c.name}`, async () => {
      const source = soxAtRate(wavPath, c.rateHz);
      const bytes = c.encode(source);
      // What the server will hear: the decoded bytes at the source rate, resampled to 16 kHz.
      const heard16k = resample(c.decode(bytes), c.rateHz, 16000);
      const offline = await segmentEventsOffline(heard16k, defaultConfig().vad);
      const expected = offline.flatMap((e) =>
        e.type === 'speech_started'
          ? [['started', e.audioStartMs]]
          : e.type === 'speech_stopped'
            ? [['stopped', e.audioEndMs]]
            : [],
      );
      const expectedUtterances = offline.filter((e) => e.type === 'utterance').length;
      expect(expectedUtterances).toBe(3);

      const client = await TestClient.connect(server.url);
      client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: c.format } } } });
      await client.waitFor((e) => e.type === 'session.updated');
      for (const chunk of unevenChunks(bytes, c.format.type === 'audio/pcm' ? 2 : 1)) {
        if (c.binary) client.sendRaw(chunk);
        else client.send({ type: 'input_audio_buffer.append', audio: Buffer.from(chunk).toString('base64') });
      }
      for (let i = 0; i < expectedUtterances; i++) {
        await client.waitFor(
          (e) =>
            e.type === 'input_audio_buffer.committed' && client.ofType('input_audio_buffer.committed').length >= i + 1,
        );
      }
      await client.roundTrip();
      expect(client.ofType('error')).toEqual([]);
      expect(turnEvents(client.events)).toEqual(expected);

      // Ids follow OpenAI's semantics: one item per turn, committed after speech_stopped, chained by previous_item_id.
      const started = client.ofType('input_audio_buffer.speech_started');
      const committed = client.ofType('input_audio_buffer.committed');
      const added = client.ofType('conversation.item.added');
      expect(committed.map((e) => e.item_id)).toEqual(started.map((e) => e.item_id));
      expect(committed.map((e) => e.previous_item_id)).toEqual([null, ...committed.slice(0, -1).map((e) => e.item_id)]);
      expect(added.map((e) => (e.item as { id: string }).id)).toEqual(committed.map((e) => e.item_id));
      const ids = client.events.map((e) => e.event_id);
      expect(new Set(ids).size).toBe(ids.length);
      await client.close();
    });
  }
});

describe('WebSocket ingest on a pool of VAD worker threads', () => {
  it('three concurrent clients each get the offline turn events (vad.worker_threads 2, batches of one stream)', async () => {
    const pooled = await startTestServer({
      vad: { inference_thread: 'worker', worker_threads: 2, batch_max_streams: 1 },
    });
    try {
      const source = soxAtRate(wavPath, 24000);
      const bytes = float32ToPcm16Bytes(source);
      const offline = await segmentEventsOffline(
        resample(pcm16BytesToFloat32(bytes), 24000, 16000),
        defaultConfig().vad,
      );
      const expected = offline.flatMap((e) =>
        e.type === 'speech_started'
          ? [['started', e.audioStartMs]]
          : e.type === 'speech_stopped'
            ? [['stopped', e.audioEndMs]]
            : [],
      );
      const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(pooled.url)));
      // Interleaved sends: the clients' windows queue together and run as separate batches on both threads.
      const chunks = unevenChunks(bytes, 2);
      for (const chunk of chunks)
        for (const client of clients)
          client.send({ type: 'input_audio_buffer.append', audio: Buffer.from(chunk).toString('base64') });
      for (const client of clients) {
        await client.waitFor(() => client.ofType('input_audio_buffer.committed').length >= 3);
        await client.roundTrip();
        expect(client.ofType('error')).toEqual([]);
        expect(turnEvents(client.events)).toEqual(expected);
        await client.close();
      }
    } finally {
      await pooled.close();
    }
  });
});
