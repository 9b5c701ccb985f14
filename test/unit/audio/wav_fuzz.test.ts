import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { resampledLength } from '../../../src/audio/resample.ts';
import { readWav, type WavAudio } from '../../../src/audio/wav.ts';
import { readWavFileAs16k } from '../../../src/audio/wav_input.ts';
import { EarshotError } from '../../../src/errors.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';
import { float32Payload, fmtChunk, int16Payload, type FmtSpec } from './wav_builder.ts';

// Fuzzing the WAV boundary (readWav, and readWavFileAs16k which `earshot vad|transcribe` use): any bytes
// either decode to audio consistent with the data actually in the file (never read past it, never a NaN,
// never sized by a header field) or fail with an EarshotError of a stable code; never a RangeError or
// TypeError, a hang, or an allocation a header field asked for.

const SEED = 20261126;
const WAV_CODES = ['E_WAV_INVALID', 'E_WAV_UNSUPPORTED'];
const dir = mkdtempSync(join(tmpdir(), 'earshot-wav-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RIFF header (12) + fmt chunk (8 + 16) + data chunk header (8): no audio byte can sit earlier. */
const MIN_AUDIO_OFFSET = 44;

/** readWav's contract on any input; returns the outcome for the tallies. */
function expectSaneRead(bytes: Uint8Array): string {
  let audio: WavAudio;
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  try {
    audio = readWav(bytes);
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(EarshotError);
    const { code, message } = error as EarshotError;
    expect(WAV_CODES, message).toContain(code);
    expect(message.length).toBeLessThan(500);
    return code;
  }
  // Whatever the header says, memory follows the bytes present (Float32 samples from 1-byte G.711: x4,
  // plus the interleaved copy for several channels).
  expect(process.memoryUsage().arrayBuffers - arrayBuffersBefore).toBeLessThanOrEqual(8 * bytes.length + 1024 * 1024);
  const bytesPerSample = { pcm16: 2, pcm24: 3, pcm32: 4, float32: 4, float64: 8, mulaw: 1, alaw: 1 }[audio.encoding];
  expect(['pcm16', 'pcm24', 'pcm32', 'float32', 'float64', 'mulaw', 'alaw']).toContain(audio.encoding);
  expect(Number.isInteger(audio.sampleRateHz) && audio.sampleRateHz > 0).toBe(true);
  expect(audio.channels.length).toBeGreaterThan(0);
  const frames = audio.channels[0].length;
  for (const channel of audio.channels) {
    expect(channel.length).toBe(frames);
    for (const sample of channel) {
      expect(Number.isFinite(sample), `sample ${sample}`).toBe(true);
      if (!audio.encoding.startsWith('float')) expect(sample >= -1 && sample < 1).toBe(true);
    }
  }
  expect(frames * audio.channels.length * bytesPerSample).toBeLessThanOrEqual(bytes.length - MIN_AUDIO_OFFSET);
  return `ok ${audio.encoding}`;
}

// --- WAV files built chunk by chunk, with every header field up for mutation --------------------------

interface RawChunk {
  id: Uint8Array;
  declaredSize: number;
  payload: Uint8Array;
  /** Write the RIFF pad byte after an odd payload (some writers forget it). */
  pad: boolean;
}

interface FileSpec {
  riffTag: string;
  riffSize: number | null; // null: the true size
  chunks: RawChunk[];
  truncateAt: number | null;
}

function serialize(spec: FileSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (value: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value, true);
    return out;
  };
  for (const c of spec.chunks) {
    parts.push(c.id, u32(c.declaredSize), c.payload);
    if (c.pad && c.payload.length % 2 === 1) parts.push(new Uint8Array(1));
  }
  const body = Buffer.concat(parts);
  const whole = Buffer.concat([
    Buffer.from(spec.riffTag, 'latin1'),
    u32(spec.riffSize ?? body.length + 4),
    Buffer.from('WAVE'),
    body,
  ]);
  const bytes = new Uint8Array(whole.buffer, whole.byteOffset, whole.length); // a view at an offset, like readFile's
  return spec.truncateAt === null ? bytes : bytes.subarray(0, spec.truncateAt % (bytes.length + 1));
}

const tag = (id: string) => new Uint8Array(Buffer.from(id, 'latin1'));
/** The helper's canonical fmt chunk (16 bytes, 40 when extensible), as a raw chunk. */
const fmtRaw = (spec: FmtSpec): RawChunk => {
  const payload = fmtChunk(spec).payload;
  return { id: tag('fmt '), declaredSize: payload.length, payload, pad: true };
};
const wavOf = (...chunks: RawChunk[]) => serialize({ riffTag: 'RIFF', riffSize: null, chunks, truncateAt: null });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** A size that mostly tells the truth, else lies: 0, 0xFFFFFFFF (streamed), larger or smaller than the payload, anything. */
const sizeLie = fc.oneof(
  { weight: 6, arbitrary: fc.constant('exact') },
  { weight: 1, arbitrary: fc.constantFrom('zero', 'max', 'larger', 'smaller', 'random') },
);

function declare(kind: string, length: number, random: number): number {
  switch (kind) {
    case 'zero':
      return 0;
    case 'max':
      return 0xffffffff;
    case 'larger':
      return length + 1 + (random % 100_000);
    case 'smaller':
      return length === 0 ? 0 : random % length;
    case 'random':
      return random;
    default:
      return length;
  }
}

/** One header field of a valid fmt chunk set to a hostile value. */
type FmtMutation =
  | {
      field:
        | 'formatCode'
        | 'channelCount'
        | 'sampleRateHz'
        | 'bitsPerSample'
        | 'subFormat'
        | 'blockAlign'
        | 'byteRate'
        | 'guid'
        | 'cut';
      value: number;
    }
  | { field: 'shape'; value: 'cbSize' | 'long' | 'odd' }
  | { field: 'size'; value: string; random: number };

const fmtMutation: fc.Arbitrary<FmtMutation> = fc.oneof(
  fc.record({
    field: fc.constant('formatCode'),
    value: fc.oneof(fc.constantFrom(1, 3, 0xfffe, 6, 7, 2, 0x11, 0x55, 0), u16),
  }),
  fc.record({ field: fc.constant('channelCount'), value: fc.oneof(fc.constantFrom(0, 3, 8, 255, 65535), u16) }),
  fc.record({
    field: fc.constant('sampleRateHz'),
    value: fc.oneof(fc.constantFrom(0, 1, 11025, 96000, 0x7fffffff, 0xffffffff), u32),
  }),
  fc.record({
    field: fc.constant('bitsPerSample'),
    value: fc.oneof(fc.constantFrom(0, 7, 8, 12, 24, 32, 64, 65535), u16),
  }),
  fc.record({ field: fc.constant('subFormat'), value: fc.constantFrom(1, 3, 6, 7, 0, 0xffff) }),
  fc.record({ field: fc.constantFrom('blockAlign', 'byteRate'), value: u32 }), // block align inconsistent with the rest
  fc.record({ field: fc.constant('guid'), value: fc.nat({ max: 13 }) }),
  fc.record({ field: fc.constant('cut'), value: fc.nat({ max: 15 }) }), // fmt shorter than 16 bytes
  fc.record({ field: fc.constant('shape'), value: fc.constantFrom('cbSize', 'long', 'odd') }),
  fc.record({
    field: fc.constant('size'),
    value: fc.constantFrom('zero', 'max', 'larger', 'smaller', 'random'),
    random: u32,
  }),
) as fc.Arbitrary<FmtMutation>;

/** Writers that forget the pad byte after an odd chunk exist; most do not. */
const mostlyPadded = fc.constantFrom(true, true, true, false);

const SUPPORTED_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

/** A valid PCM16 or float32 fmt (plain or WAVE_FORMAT_EXTENSIBLE), then zero to three hostile fields. */
const fmtArb: fc.Arbitrary<RawChunk> = fc
  .record({
    float: fc.boolean(),
    extensible: fc.boolean(),
    channelCount: fc.constantFrom(1, 2),
    sampleRateHz: fc.constantFrom(...SUPPORTED_RATES),
    mutations: fc.oneof(fc.constant<FmtMutation[]>([]), fc.array(fmtMutation, { minLength: 1, maxLength: 3 })),
  })
  .map(({ float, extensible, channelCount, sampleRateHz, mutations }) => {
    const spec: FmtSpec = {
      formatCode: extensible ? 0xfffe : float ? 3 : 1,
      subFormat: float ? 3 : 1,
      channelCount,
      sampleRateHz,
      bitsPerSample: float ? 32 : 16,
    };
    for (const m of mutations)
      if (m.field in spec) (spec as unknown as Record<string, number>)[m.field] = m.value as number;
    let payload = fmtRaw(spec).payload;
    const view = new DataView(payload.buffer);
    for (const m of mutations) {
      if (m.field === 'blockAlign') view.setUint16(12, m.value & 0xffff, true);
      if (m.field === 'byteRate') view.setUint32(8, m.value, true);
      if (m.field === 'guid' && payload.length === 40) payload[26 + m.value] ^= 0x5a;
      if (m.field === 'cut') payload = payload.subarray(0, m.value);
      if (m.field === 'shape' && m.value === 'cbSize') payload = Uint8Array.from([...payload, 0, 0]); // 18 bytes, as float writers do
      if (m.field === 'shape' && m.value === 'long') payload = Uint8Array.from([...payload, ...new Uint8Array(7)]);
      if (m.field === 'shape' && m.value === 'odd') payload = Uint8Array.from([...payload, 0x7f]);
    }
    const size = mutations.find((m): m is Extract<FmtMutation, { field: 'size' }> => m.field === 'size');
    return {
      id: tag('fmt '),
      declaredSize: size ? declare(size.value, payload.length, size.random) : payload.length,
      payload,
      pad: true,
    };
  });

/** Sample bytes: random, or float32 / int16 values including NaN, infinities and absurd magnitudes. */
const samplesArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .array(fc.oneof(fc.float(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1.5, -1, 1e-45)), {
      maxLength: 150,
    })
    .map(float32Payload),
  fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 300 }).map(int16Payload),
);

const dataArb: fc.Arbitrary<RawChunk> = fc
  .record({ payload: samplesArb, size: sizeLie, random: u32, pad: mostlyPadded })
  .map((d) => ({
    id: tag('data'),
    declaredSize: declare(d.size, d.payload.length, d.random),
    payload: d.payload,
    pad: d.pad,
  }));

const junkArb: fc.Arbitrary<RawChunk> = fc
  .record({
    id: fc.oneof(
      fc.constantFrom('LIST', 'fact', 'JUNK', 'bext', 'cue ', 'id3 ', 'PEAK', 'smpl', 'RIFF', 'WAVE').map(tag),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
    ),
    payload: fc.uint8Array({ maxLength: 40 }),
    size: sizeLie,
    random: u32,
    pad: mostlyPadded,
  })
  .map((j) => ({
    id: j.id,
    declaredSize: declare(j.size, j.payload.length, j.random),
    payload: j.payload,
    pad: j.pad,
  }));

/**
 * Half the files are hostile throughout (any RIFF tag and size, junk chunks whose sizes lie, chunks missing,
 * out of order or repeated, truncation); the other half only carry the fmt and data mutations, so that
 * decodable files are common enough for the success side of the properties to be exercised too.
 */
const fileArb: fc.Arbitrary<FileSpec> = fc
  .record({
    hostile: fc.boolean(),
    riffTag: fc.oneof(
      { weight: 4, arbitrary: fc.constant('RIFF') },
      { weight: 3, arbitrary: fc.constantFrom('RIFX', 'RF64', 'riff') },
    ),
    riffSize: fc.option(fc.oneof(u32, fc.constantFrom(0, 4, 0xffffffff)), { freq: 3 }),
    before: fc.oneof(fc.array(junkArb, { maxLength: 2 }), fc.array(junkArb, { maxLength: 60 })), // many before fmt
    fmt: fc.option(fmtArb, { freq: 5 }),
    between: fc.array(junkArb, { maxLength: 2 }),
    data: fc.option(dataArb, { freq: 5 }),
    after: fc.array(fc.oneof(junkArb, fmtArb, dataArb), { maxLength: 2 }),
    dataFirst: fc.boolean(),
    truncateAt: fc.option(fc.integer({ min: 0, max: 2000 }), { freq: 3 }),
  })
  .map((f) => {
    if (!f.hostile) {
      const honest = (chunks: RawChunk[]) => chunks.map((c) => ({ ...c, declaredSize: c.payload.length, pad: true }));
      const fmt = f.fmt ?? fmtRaw({ formatCode: 1, channelCount: 1, sampleRateHz: 16000, bitsPerSample: 16 });
      return {
        riffTag: 'RIFF',
        riffSize: f.riffSize,
        chunks: [...honest(f.before.slice(0, 3)), fmt, ...honest(f.between), ...(f.data ? [f.data] : []), ...f.after],
        truncateAt: null,
      };
    }
    const fmt = f.fmt === null ? [] : [f.fmt];
    const data = f.data === null ? [] : [f.data];
    const middle = f.dataFirst ? [...data, ...f.between, ...fmt] : [...fmt, ...f.between, ...data];
    return {
      riffTag: f.riffTag,
      riffSize: f.riffSize,
      chunks: [...f.before, ...middle, ...f.after],
      truncateAt: f.truncateAt,
    };
  });

/** Outcomes seen, to show the properties reached both decoded audio and every kind of refusal. */
const outcomes = new Map<string, number>();
const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);

describe('fuzzing readWav', () => {
  it('random bytes, with or without a RIFF/WAVE header in front', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 1024 }),
          fc
            .uint8Array({ maxLength: 1024 })
            .map((rest) =>
              Uint8Array.from([...Buffer.from('RIFF'), 0xff, 0xff, 0xff, 0xff, ...Buffer.from('WAVE'), ...rest]),
            ),
          fc
            .uint8Array({ maxLength: 512 })
            .map((rest) => Uint8Array.from([...Buffer.from('RIFF\x00\x00\x00\x00WAVEfmt '), ...rest])),
        ),
        (bytes) => void expectSaneRead(bytes),
      ),
      { numRuns: 500, seed: SEED },
    );
  });

  it('files with mutated header fields, lying chunk sizes, junk chunks, missing or repeated chunks, truncation', () => {
    fc.assert(
      fc.property(fileArb, (spec) => void count(expectSaneRead(serialize(spec)))),
      { numRuns: 500, seed: SEED + 1 },
    );
    // Every outcome was reached, not only refusals.
    for (const outcome of ['ok pcm16', 'ok float32', 'E_WAV_INVALID', 'E_WAV_UNSUPPORTED'])
      expect(outcomes.get(outcome) ?? 0, outcome).toBeGreaterThan(10);
  });

  it('a well-formed file decodes exactly the frames present: min(declared, present) bytes, partial frame dropped', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'pcm16' | 'float32'>('pcm16', 'float32'),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 200 }),
        fc.array(
          junkArb.map((j) => ({ ...j, id: tag('LIST'), declaredSize: j.payload.length, pad: true })),
          { maxLength: 5 },
        ),
        sizeLie,
        u32,
        (encoding, channelCount, values, junk, size, random) => {
          // Float samples from integers: finite, so the file is valid whatever the data size says.
          const payload = encoding === 'pcm16' ? int16Payload(values) : float32Payload(values.map((v) => v / 32768));
          const fmt = fmtRaw({
            formatCode: encoding === 'pcm16' ? 1 : 3,
            channelCount,
            sampleRateHz: 16000,
            bitsPerSample: encoding === 'pcm16' ? 16 : 32,
          });
          const data: RawChunk = {
            id: tag('data'),
            declaredSize: declare(size, payload.length, random),
            payload,
            pad: true,
          };
          const audio = readWav(wavOf(...junk, fmt, data));
          const bytesPerSample = encoding === 'pcm16' ? 2 : 4;
          // The data chunk is last and even-sized: exactly payload.length bytes are present after its header.
          const frames = Math.floor(Math.min(data.declaredSize, payload.length) / (bytesPerSample * channelCount));
          expect(audio.channels).toHaveLength(channelCount);
          expect(audio.channels[0].length).toBe(frames);
          audio.channels.forEach((channel, c) =>
            channel.forEach((sample, i) => expect(sample).toBe(Math.fround(values[i * channelCount + c] / 32768))),
          );
        },
      ),
      { numRuns: 300, seed: SEED + 2 },
    );
  });
});

describe('fuzzing readWavFileAs16k (the CLI loader)', () => {
  it('a corrupt or odd file is a stable error code naming the file, or finite 16 kHz audio of the right length', async () => {
    let decoded = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, async (spec) => {
        const bytes = serialize(spec);
        const path = join(dir, 'fuzz.wav');
        writeFileSync(path, bytes);
        let result: Awaited<ReturnType<typeof readWavFileAs16k>>;
        try {
          result = await readWavFileAs16k(path);
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(EarshotError);
          const { code, message } = error as EarshotError;
          // E_UNSUPPORTED_FORMAT: a valid WAV at a rate the resampler does not take (the wire code for it).
          expect([...WAV_CODES, 'E_UNSUPPORTED_FORMAT'], message).toContain(code);
          if (code !== 'E_UNSUPPORTED_FORMAT') expect(message).toContain(path);
          return;
        }
        decoded++;
        const wav = readWav(bytes);
        expect(result.samples16k.length).toBe(
          wav.sampleRateHz === 16000
            ? wav.channels[0].length
            : resampledLength(wav.channels[0].length, wav.sampleRateHz),
        );
        expect(result.samples8k === undefined).toBe(wav.sampleRateHz !== 8000);
        // Float input is clipped to [-1, 1] first, so even ±3.4e38 stays finite through the resampler, whose
        // worst-case gain (the largest sum of |coefficients| of a phase) is under 2.5.
        for (const sample of result.samples16k)
          expect(Number.isFinite(sample) && Math.abs(sample) <= 2.5, `sample ${sample}`).toBe(true);
      }),
      { numRuns: 250, seed: SEED + 3 },
    );
    expect(decoded).toBeGreaterThan(20);
  });

  it('a directory or a file past the 2 GiB read limit is E_WAV_INVALID, not a raw fs error', async () => {
    const folder = join(dir, 'folder.wav');
    mkdirSync(folder);
    await expect(readWavFileAs16k(folder)).rejects.toMatchObject({
      name: 'EarshotError',
      code: 'E_WAV_INVALID',
      message: expect.stringContaining('EISDIR'),
    });
    const huge = join(dir, 'huge.wav');
    writeFileSync(huge, '');
    truncateSync(huge, 3 * 1024 ** 3); // sparse: no disk used, and Node refuses before allocating
    await expect(readWavFileAs16k(huge)).rejects.toMatchObject({
      name: 'EarshotError',
      code: 'E_WAV_INVALID',
      message: expect.stringContaining('larger than 2 GiB'),
    });
    rmSync(huge);
  });
});

describe('earshot vad on corrupt files', () => {
  it('exits 1 with the error code on stderr and no stack trace', () => {
    const data = (payload: Uint8Array, declaredSize = payload.length): RawChunk => ({
      id: tag('data'),
      declaredSize,
      payload,
      pad: true,
    });
    const cases: [string, Uint8Array | 'directory', RegExp][] = [
      // Before the fix this one exited 0: the NaN went through the pipeline silently.
      [
        'nan.wav',
        wavOf(
          fmtRaw({ formatCode: 3, channelCount: 1, sampleRateHz: 16000, bitsPerSample: 32 }),
          data(float32Payload([0.5, Number.NaN])),
        ),
        /^earshot: E_WAV_INVALID: .*nan\.wav: WAV float32 data holds a non-finite sample \(NaN\)/,
      ],
      [
        'bits12.wav',
        wavOf(
          fmtRaw({ formatCode: 1, channelCount: 1, sampleRateHz: 16000, bitsPerSample: 12 }),
          data(new Uint8Array(10), 0xffffffff),
        ),
        /^earshot: E_WAV_UNSUPPORTED: .*12-bit PCM/,
      ],
      // Before the fix: a raw EISDIR with a stack trace.
      ['dir.wav', 'directory', /^earshot: E_AUDIO_UNREADABLE: .*dir\.wav: the file cannot be read/],
    ];
    for (const [name, content, stderr] of cases) {
      const path = join(dir, name);
      if (content === 'directory') mkdirSync(path);
      else writeFileSync(path, content);
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'earshot.mjs'), 'vad', path], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe('');
    }
  }, 60_000);
});
