import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import type { GenaiConfig } from './genai_config.ts';
import { findModelFiles, type ModelFiles } from './model_dir.ts';
import { formatDifferences, inspectModelFiles, type ModelIo } from './model_check.ts';

// Loads the Phi-4-mm ONNX graphs of one model directory into onnxruntime-node sessions after
// verifying their signatures. Sessions are created from file paths so onnxruntime finds each graph's
// external `.onnx.data` file next to it.

export interface Phi4Model {
  dir: string;
  files: ModelFiles;
  config: GenaiConfig;
  speech: ort.InferenceSession;
  embedding: ort.InferenceSession;
  text: ort.InferenceSession;
  vision?: ort.InferenceSession;
  io: ModelIo;
  /** Releases every session; the model must not be used afterwards. */
  dispose(): Promise<void>;
}

export interface LoadPhi4Options {
  /** Load phi-4-mm-vision.onnx when present (default false: Earshot v1 is speech and text). */
  loadVision?: boolean;
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/**
 * Default session options. Severity 3 (error) because the export declares its LoRA weights as
 * initializer-backed inputs, for which onnxruntime prints one warning per tensor at load time.
 */
const DEFAULT_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};

async function createSession(path: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, options);
  } catch (err) {
    throw new EarshotError('E_MODEL_INVALID', `onnxruntime could not load ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export async function loadPhi4Model(dir: string, opts: LoadPhi4Options = {}): Promise<Phi4Model> {
  const files = findModelFiles(dir);
  const inspection = inspectModelFiles(files);
  if (inspection.differences.length > 0 || !inspection.io) {
    throw new EarshotError('E_MODEL_INVALID', formatDifferences(files.dir, inspection.differences));
  }
  const sessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...opts.sessionOptions };
  const created: ort.InferenceSession[] = [];
  const track = async (path: string) => {
    const session = await createSession(path, sessionOptions);
    created.push(session);
    return session;
  };
  try {
    // Sequential on purpose: loading the large graphs in parallel doubles peak memory for no gain on 2 cores.
    const speech = await track(files.speech);
    const embedding = await track(files.embedding);
    const text = await track(files.text);
    const vision = opts.loadVision && files.vision ? await track(files.vision) : undefined;
    let disposed = false;
    return {
      dir: files.dir,
      files,
      config: files.config,
      speech,
      embedding,
      text,
      vision,
      io: inspection.io,
      async dispose() {
        if (disposed) return;
        disposed = true;
        await Promise.all(created.map((s) => s.release()));
      },
    };
  } catch (err) {
    await Promise.allSettled(created.map((s) => s.release()));
    throw err;
  }
}
