// The Silero VAD worker thread: runs the batched graph for the main thread's VadBatcher, so inference
// (a quarter of the event loop's time at 200 streams) runs beside the sockets instead of between them.
// Stateless: the LSTM states stay with their streams on the main thread and travel with each batch.

import { parentPort, workerData } from 'node:worker_threads';
import { isEarshotError } from '../errors.ts';
import { SileroModel, type PackedBatch } from './silero_model.ts';

const port = parentPort;
if (port === null) throw new Error('vad_worker.ts must run in a worker thread');

export type VadWorkerRequest = PackedBatch & { id: number };
export type VadWorkerMessage =
  | { type: 'ready' }
  | { type: 'load_failed'; code: string; message: string }
  | { type: 'result'; id: number; probabilities: Float32Array; hn: Float32Array; cn: Float32Array }
  | { type: 'failed'; id: number; code: string; message: string };

const post = (message: VadWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const errorOf = (error: unknown) => ({
  code: isEarshotError(error) ? error.code : 'E_VAD_MODEL',
  message: error instanceof Error ? error.message : String(error),
});

try {
  const model = await SileroModel.load((workerData as { modelPath?: string }).modelPath);
  port.on('message', (request: VadWorkerRequest) => {
    model.runPacked(request).then(
      (out) =>
        post({ type: 'result', id: request.id, probabilities: out.probabilities, hn: out.hn, cn: out.cn }, [
          out.probabilities.buffer as ArrayBuffer,
        ]),
      (error: unknown) => post({ type: 'failed', id: request.id, ...errorOf(error) }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'load_failed', ...errorOf(error) });
}
