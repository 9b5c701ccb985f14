import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTaskPrompt, TASK_PROMPTS } from '../../../src/engine/phi4mm/chat_template.ts';
import { audioTokenCount, type AudioFeatures } from '../../../src/engine/phi4mm/features.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
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
