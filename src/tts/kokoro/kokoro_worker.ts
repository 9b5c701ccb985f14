// The Kokoro worker thread: loads the precision variants, keeps the fastest that works on this machine
// (a short timed run each), and runs synthesis requests one at a time. onnxruntime's run() occupies its
// thread, so it lives here rather than on the event loop or in the Phi-4 engine worker, whose decode
// steps for every session would otherwise wait behind each sentence's run.

import * as ort from 'onnxruntime-node';
import { parentPort, workerData } from 'node:worker_threads';
import { EarshotError } from '../../errors.ts';
import { serializeError } from '../../engine/worker_protocol.ts';
import { checkKokoroGraphIo, STYLE_DIM, type KokoroVariant } from './model_folder.ts';
import type { KokoroReply, KokoroRequest, KokoroWorkerInit, PrecisionCheck } from './worker_messages.ts';

const port = parentPort;
if (port === null) throw new Error('kokoro_worker.ts must run in a worker thread');
const init = workerData as KokoroWorkerInit;
const post = (message: KokoroReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const OUTPUT_RATE_HZ = 24_000;

async function run(
  session: ort.InferenceSession,
  ids: BigInt64Array,
  style: Float32Array,
  speed: number,
): Promise<Float32Array> {
  const out = await session.run({
    input_ids: new ort.Tensor('int64', ids, [1, ids.length]),
    style: new ort.Tensor('float32', style, [1, STYLE_DIM]),
    speed: new ort.Tensor('float32', Float32Array.of(speed), [1]),
  });
  const waveform = out.waveform;
  if (waveform === undefined || waveform.type !== 'float32')
    throw new EarshotError('E_TTS_ENGINE', 'The Kokoro graph returned no float32 waveform.');
  // A copy the worker owns, so it can be transferred to the main thread.
  return new Float32Array(waveform.data as Float32Array);
}

async function check(variant: KokoroVariant): Promise<{ session?: ort.InferenceSession; result: PrecisionCheck }> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(variant.path, {
      intraOpNumThreads: init.intraOpNumThreads,
      interOpNumThreads: init.interOpNumThreads,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `${variant.path} cannot be loaded by onnxruntime: ${(err as Error).message}`,
    );
  }
  // A graph with other inputs/outputs is the wrong model: the folder is rejected, not just this variant.
  checkKokoroGraphIo(variant.path, session.inputMetadata, session.outputMetadata);
  try {
    await run(session, init.checkIds, init.checkStyle, 1); // first run allocates; not timed
    const started = performance.now();
    const waveform = await run(session, init.checkIds, init.checkStyle, 1);
    const runMs = performance.now() - started;
    const audioMs = (waveform.length / OUTPUT_RATE_HZ) * 1000;
    if (waveform.length === 0) throw new Error('the waveform is empty');
    return { session, result: { precision: variant.precision, runMs, audioMs, rtf: runMs / audioMs } };
  } catch (err) {
    await session.release();
    return { result: { precision: variant.precision, error: (err as Error).message } };
  }
}

/** Loads each variant in turn and keeps the fastest one that ran; others are released at once. */
async function load(): Promise<ort.InferenceSession> {
  const checks: PrecisionCheck[] = [];
  let best: { session: ort.InferenceSession; result: PrecisionCheck } | undefined;
  try {
    for (const variant of init.variants) {
      const { session, result } = await check(variant);
      checks.push(result);
      if (session === undefined) continue;
      if (best === undefined || (result.runMs as number) < (best.result.runMs as number)) {
        await best?.session.release();
        best = { session, result };
      } else {
        await session.release();
      }
    }
  } catch (err) {
    await best?.session.release();
    post({ type: 'loadError', error: serializeError(err), checks });
    throw err;
  }
  if (best === undefined) {
    const error = new EarshotError(
      'E_MODEL_INVALID',
      `No Kokoro variant ran on this machine: ${checks.map((c) => `${c.precision}: ${c.error}`).join('; ')}.`,
    );
    post({ type: 'loadError', error: serializeError(error), checks });
    throw error;
  }
  post({ type: 'ready', precision: best.result.precision, checks });
  return best.session;
}

const loaded = load();
// A failed load was reported as loadError; the runtime then terminates this thread.
loaded.catch(() => undefined);
// Requests arrive one at a time (the runtime keeps one in flight), so runs never overlap.
port.on('message', (request: KokoroRequest) => {
  if (request.op === 'close') {
    void loaded
      .then(
        (s) => s.release(),
        () => undefined,
      )
      .finally(() => process.exit(0));
    return;
  }
  void loaded.then(
    async (session) => {
      try {
        const started = performance.now();
        const waveform = await run(session, request.ids, request.style, request.speed);
        post({ type: 'audio', id: request.id, waveform, runMs: performance.now() - started }, [
          waveform.buffer as ArrayBuffer,
        ]);
      } catch (err) {
        const error =
          err instanceof EarshotError
            ? err
            : new EarshotError('E_TTS_ENGINE', `The Kokoro graph failed: ${(err as Error).message}`);
        post({ type: 'error', id: request.id, error: serializeError(error) });
      }
    },
    () => undefined,
  );
});
