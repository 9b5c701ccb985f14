// The engine worker thread: owns the ONNX sessions (one Phi4Engine per process) and serves EngineHost's
// requests. Requests are handed to the engine synchronously in arrival order, so the operations of one
// session keep their order on its scheduler lane; results and generation deltas go back as messages.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { EarshotError } from '../errors.ts';
import type { EngineLogger } from './engine_logger.ts';
import type { UserPart } from './engine_session.ts';
import { Phi4Engine } from './phi4_engine.ts';
import type { Phi4Session } from './phi4_session.ts';
import {
  CANCEL_FLAG,
  CANCEL_STEPS,
  serializeError,
  type AppendRequest,
  type HostRequest,
  type WorkerSessionState,
  type WorkerInit,
  type WorkerMessage,
} from './worker_protocol.ts';

const port = parentPort;
if (port === null) throw new Error('engine_worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

const post = (message: WorkerMessage): void => port.postMessage(message);
const log: EngineLogger = {
  info: (data, message) => post({ type: 'log', level: 'info', data, message }),
  warn: (data, message) => post({ type: 'log', level: 'warn', data, message }),
  error: (data, message) => post({ type: 'log', level: 'error', data, message }),
};

const sessions = new Map<string, Phi4Session>();

function stateOf(session: Phi4Session): WorkerSessionState {
  const cp = session.checkpoint();
  return { length: session.length, turns: cp.turns, epoch: cp.epoch, stats: session.stats() };
}

function sessionOf(id: string): Phi4Session {
  const session = sessions.get(id);
  if (session === undefined) throw new EarshotError('E_INTERNAL', `Unknown engine session ${id}.`);
  return session;
}

function append(session: Phi4Session, request: AppendRequest): Promise<unknown> {
  switch (request.kind) {
    case 'system':
      return session.appendSystem({ instructions: request.instructions, tools: request.tools });
    case 'user': {
      const parts: UserPart[] = request.parts.map((p) =>
        p.type === 'text' ? p : { type: 'audio', audio: { id: p.audioId, audioTokens: 0, durationMs: 0 } },
      );
      return session.appendUser(parts);
    }
    case 'assistant':
      return session.appendAssistant(request.text);
    case 'tool':
      return session.appendToolResponse(request.resultJson);
  }
}

/** Starts the request's work synchronously (keeps per-session order) and returns its outcome. */
function handle(
  engine: Phi4Engine,
  request: HostRequest & { id: number },
): { work: Promise<unknown>; session?: Phi4Session } {
  switch (request.op) {
    case 'encodeAudio':
      return { work: engine.encodeAudio(request.pcm, request.sampleRateHz) };
    case 'createSession': {
      const work = engine.createSession({ contextBudgetTokens: request.contextBudgetTokens }).then((s) => {
        sessions.set(s.id, s);
        return { sessionId: s.id, state: stateOf(s) };
      });
      return { work };
    }
    case 'append': {
      const session = sessionOf(request.sessionId);
      return { work: append(session, request.append), session };
    }
    case 'generate': {
      const session = sessionOf(request.sessionId);
      const flags = new Int32Array(request.cancel);
      const work = session.runGeneration(request.options, {
        isCancelled: () => Atomics.load(flags, CANCEL_FLAG) !== 0,
        onDecodeStep: () => void Atomics.add(flags, CANCEL_STEPS, 1),
        onDelta: (e) => post({ type: 'delta', id: request.id, text: e.text, tokenIds: e.tokenIds }),
      });
      return { work, session };
    }
    case 'rewind': {
      const session = sessionOf(request.sessionId);
      return { work: session.rewind(request.checkpoint), session };
    }
    case 'dispose': {
      const session = sessionOf(request.sessionId);
      sessions.delete(request.sessionId);
      return { work: session.dispose(), session };
    }
    case 'injectFault':
      if (request.fault !== undefined) engine.faults.arm(request.fault);
      return { work: Promise.resolve({ fired: engine.faults.fired, pending: engine.faults.pending }) };
    case 'totals':
      return { work: Promise.resolve({ ...engine.totals(), workerRssBytes: process.memoryUsage().rss }) };
    default:
      throw new EarshotError('E_INTERNAL', `Unknown engine request ${(request as { op: string }).op}.`);
  }
}

/**
 * Lowers this thread's scheduling priority (Linux nice, per thread) before onnxruntime creates its
 * threads, which inherit it: on a busy machine turn detection and sockets on the main thread then win
 * the CPU over captions, which queue instead of delaying every connection's events.
 */
function lowerThreadPriority(nice: number): void {
  if (nice === 0) return;
  if (process.platform !== 'linux') {
    log.warn({ nice }, 'engine.worker_nice is applied on Linux only; ignored');
    return;
  }
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(threadId, nice);
  } catch (error) {
    log.warn({ nice, error: (error as Error).message }, 'could not set the engine worker thread priority');
  }
}

lowerThreadPriority(init.workerNice ?? 0);

const enginePromise = Phi4Engine.load({
  modelDir: init.modelDir,
  contextBudgetTokens: init.contextBudgetTokens,
  maxPendingRequests: init.maxPendingRequests,
  prefillChunkTokens: init.prefillChunkTokens,
  batchMaxRows: init.batchMaxRows,
  batchMaxContextTokens: init.batchMaxContextTokens,
  applySpeechAdapter: init.applySpeechAdapter,
  kvCache: init.kvCache,
  executionProvider: init.executionProvider,
  kvGrowthTokens: init.kvGrowthTokens,
  sessionOptions: {
    ...(init.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: init.intraOpNumThreads }),
    ...(init.interOpNumThreads === undefined ? {} : { interOpNumThreads: init.interOpNumThreads }),
  },
  log,
});

/** Set once the model is loaded (until then there is nothing to close). */
let loaded: Phi4Engine | undefined;

enginePromise.then(
  (engine) => {
    loaded = engine;
    post({ type: 'ready', info: engine.info });
  },
  (error: unknown) => {
    post({ type: 'loadError', error: serializeError(error) });
    // Nothing can be served without a model; the host keeps the error and does not restart.
    port.close();
  },
);

/** Set once a shutdown was asked for: requests arriving later are refused, not started. */
let stopping = false;

/**
 * Graceful stop. The engine's close() refuses queued work and waits for the step that is running
 * (the host has raised every generation's cancel flag, so a generation ends at its next step), then
 * disposes the sessions and releases the ORT sessions. Only then does the thread exit, by itself:
 * worker.terminate() during a native run aborts the whole process ("terminate called after throwing
 * an instance of 'Napi::Error'"), so the host uses it only as a last resort.
 */
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Still loading (or the load failed): exit now rather than wait for a large model to finish loading
  // (the host would terminate() us mid-load after its timeout). This handler runs between the
  // loader's native calls, and the ORT sessions created so far are freed by their finalizers.
  if (loaded === undefined) process.exit(0);
  try {
    sessions.clear();
    await loaded.close();
  } catch (error) {
    // A failure to release changes nothing about exiting.
    log.warn(
      { error: error instanceof Error ? error.message : String(error) },
      'engine worker: error while closing the engine',
    );
  }
  process.exit(0);
}

port.on('message', (request: HostRequest) => {
  // Handled at once, outside the engine promise: this handler runs between graph runs by construction.
  if (request.op === 'crash') process.exit(1);
  if (request.op === 'shutdown') {
    void shutdown();
    return;
  }
  void enginePromise.then(
    (engine) => {
      if (request.op === 'releaseAudio') {
        engine.releaseAudio({ id: request.audioId, audioTokens: 0, durationMs: 0 });
        return;
      }
      if (request.op === 'setTranscript') {
        sessions.get(request.sessionId)?.setTranscript({ index: request.turnIndex }, request.transcript);
        return;
      }
      if (stopping) {
        post({
          type: 'error',
          id: request.id,
          error: serializeError(new EarshotError('E_ENGINE', 'The engine is closing.')),
        });
        return;
      }
      let started: { work: Promise<unknown>; session?: Phi4Session };
      try {
        started = handle(engine, request);
      } catch (error) {
        post({ type: 'error', id: request.id, error: serializeError(error) });
        return;
      }
      const { work, session } = started;
      work.then(
        (value) =>
          post({
            type: 'result',
            id: request.id,
            value,
            session: session === undefined ? undefined : stateOf(session),
          }),
        (error: unknown) =>
          post({
            type: 'error',
            id: request.id,
            error: serializeError(error),
            session: session === undefined ? undefined : stateOf(session),
          }),
      );
    },
    () => undefined,
  );
});
