import { copyFileSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_DATA_TYPE, decodeAdapter, encodeAdapter } from '../../../src/engine/phi4mm/adapter_format.ts';
import { FIXTURE_FILES } from '../../../src/engine/phi4mm/fixture/index.ts';
import { resolveAdapterFile } from '../../../src/engine/phi4mm/adapter_load.ts';
import { buildTaskPrompt, TASK_PROMPTS } from '../../../src/engine/phi4mm/chat_template.ts';
import { audioTokenCount, type AudioFeatures } from '../../../src/engine/phi4mm/features.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
import { loadPhi4Model } from '../../../src/engine/phi4mm/onnx_sessions.ts';
import { encodeAudio } from '../../../src/engine/phi4mm/generate_audio.ts';
import { readFloats } from '../../../src/engine/phi4mm/tensors.ts';
import { TOKEN_ID } from '../../../src/engine/phi4mm/tokenizer_ids.ts';
import { fakeFeatures, loadTinyFixture, type LoadedFixture } from './fixture_model.ts';

let fx: LoadedFixture;
const tmp = mkdtempSync(join(tmpdir(), 'earshot-adapter-'));
const sessions: GenerationSession[] = [];
const cleanups: string[] = [];

function features(frames: number, seed: number): AudioFeatures {
  return { frames, data: fakeFeatures(frames, seed), audioTokens: audioTokenCount(frames), sampleRateHz: 16000 };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function session(): GenerationSession {
  const s = new GenerationSession(fx.model, fx.tokenizer, { prefillChunkTokens: 16 });
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  fx = await loadTinyFixture();
}, 180_000);

afterAll(async () => {
  sessions.forEach((s) => s.dispose());
  await fx?.model.dispose();
  rmSync(tmp, { recursive: true, force: true });
  cleanups.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('audio through speech and embedding graphs', () => {
  it('audio rows land exactly at the placeholder positions', async () => {
    const feat = features(61, 1); // 61 frames -> 8 tokens
    const audio = await encodeAudio(fx.model, feat);
    expect(audio.rows).toBe(8);
    const prompt = buildTaskPrompt(fx.tokenizer, TASK_PROMPTS.asr(), audio.rows);
    const H = fx.model.io.hiddenSize;
    const s = session();
    const withAudio = readFloats(await s.embed(prompt.inputIds, audio.tensor));
    const textIds = prompt.inputIds.filter((id) => id !== TOKEN_ID.audio);
    const textOnly = readFloats(await s.embed(textIds, undefined));
    const audioRows = readFloats(audio.tensor);
    let textRow = 0;
    let audioRow = 0;
    prompt.inputIds.forEach((id, pos) => {
      const row = withAudio.subarray(pos * H, (pos + 1) * H);
      if (id === TOKEN_ID.audio) {
        expect([...row]).toEqual([...audioRows.subarray(audioRow * H, (audioRow + 1) * H)]);
        audioRow++;
      } else {
        expect([...row]).toEqual([...textOnly.subarray(textRow * H, (textRow + 1) * H)]);
        textRow++;
      }
    });
    expect(audioRow).toBe(8);
  });

  it('chunked speech encoding covers every frame with the right token count', async () => {
    const feat = features(200, 2); // 25 tokens
    const whole = await encodeAudio(fx.model, feat);
    const chunked = await encodeAudio(fx.model, feat, { maxChunkFrames: 48 });
    expect(chunked.rows).toBe(25);
    // The fixture encoder is per-token, so chunking at multiples of 8 frames must not change any row.
    const a = readFloats(whole.tensor);
    const b = readFloats(chunked.tensor);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('generates from an audio prompt, and audio content changes the answer', async () => {
    const run = async (seed: number) => {
      const audio = await encodeAudio(fx.model, features(61, seed));
      const prompt = buildTaskPrompt(fx.tokenizer, TASK_PROMPTS.asr(), audio.rows);
      const s = session();
      const logits = (await s.append(prompt.inputIds, [audio]))!;
      return logits;
    };
    const [a, b] = [await run(1), await run(2)];
    let differs = false;
    for (let i = 0; i < a.length && !differs; i++) differs = Math.abs(a[i] - b[i]) > 1e-4;
    expect(differs).toBe(true);
  });

  it('refuses audio rows that do not match the placeholders', async () => {
    const audio = await encodeAudio(fx.model, features(61, 1));
    const prompt = buildTaskPrompt(fx.tokenizer, TASK_PROMPTS.asr(), audio.rows + 1);
    await expect(session().append(prompt.inputIds, [audio])).rejects.toMatchObject({ code: 'E_PROMPT_AUDIO_MISMATCH' });
  });
});

describe('LoRA adapter', () => {
  /** The fixture's own adapter (it fits the text graph's int4 LoRA inputs), optionally with every shape altered. */
  function fixtureAdapter(alterShapes = false): Uint8Array {
    const adapter = decodeAdapter(readFileSync(join(fx.dir, FIXTURE_FILES.speechAdapter)));
    const params = adapter.parameters.map((p) => ({ ...p, dims: alterShapes ? [...p.dims.slice(0, -1), p.dims.at(-1)! + 1] : p.dims }));
    return encodeAdapter(params);
  }

  it('fits: matched, applied by the loader as initializer overrides, and the adapted graph changes the logits', async () => {
    const path = join(tmp, 'fits.onnx_adapter');
    writeFileSync(path, fixtureAdapter());
    const resolution = await resolveAdapterFile(path, fx.model.io);
    expect(resolution.status).toBe('fed');
    if (resolution.status !== 'fed') return;
    expect(Object.keys(resolution.textFeeds).sort()).toEqual(fx.model.io.loraInputDetails.text.map((v) => v.name).sort());

    const prompt = fx.tokenizer.encode('<|user|>Hello<|end|><|assistant|>');
    const base = (await session().append(prompt))!;
    // onnxruntime-node binds only declared inputs: feeds for initializer-backed LoRA inputs are dropped
    // silently. This documents that limitation, and why the loader bakes adapters in instead.
    const viaFeeds = new GenerationSession(fx.model, fx.tokenizer, { loraFeeds: resolution.textFeeds });
    sessions.push(viaFeeds);
    expect(maxAbsDiff(base, (await viaFeeds.append(prompt))!)).toBe(0);

    const adapted = await loadPhi4Model(fx.dir, {
      sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 },
      initializerOverrides: { text: decodeAdapter(readFileSync(path)).parameters },
    });
    try {
      const s = new GenerationSession(adapted, fx.tokenizer);
      sessions.push(s);
      expect(maxAbsDiff(base, (await s.append(prompt))!)).toBeGreaterThan(1e-3);
    } finally {
      await adapted.dispose();
    }
  });

  it('is refused with every mismatching tensor listed when the shapes differ', async () => {
    const path = join(tmp, 'shape.onnx_adapter');
    writeFileSync(path, fixtureAdapter(true));
    const resolution = await resolveAdapterFile(path, fx.model.io);
    expect(resolution.status).toBe('refused');
    if (resolution.status !== 'refused') return;
    expect(resolution.mismatches).toHaveLength(fx.model.io.loraInputDetails.text.length);
    for (const m of resolution.mismatches) expect(m).toMatch(/shape \[[0-9, ]+\] but the graph input is \[[0-9, ]+\]$/);
  });

  it('absent adapter and corrupt adapter are told apart', async () => {
    expect(await resolveAdapterFile(undefined, fx.model.io)).toEqual({ status: 'absent' });
    const path = join(tmp, 'corrupt.onnx_adapter');
    writeFileSync(path, fixtureAdapter().subarray(0, 40));
    await expect(resolveAdapterFile(path, fx.model.io)).rejects.toMatchObject({ code: 'E_MODEL_INVALID' });
  });
});
