// The parts of startServer that start something: each returns what it started and how to stop it, so the
// start-up stack can release it (see startup_stack.ts).
import type { EarshotConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { performance } from 'node:perf_hooks';
import { CapacityEstimate } from '../observability/capacity_estimate.ts';
import { DEFAULT_LOAD_INTERVAL_MS, LoadMonitor } from '../observability/load_monitor.ts';
import type { EarshotMetrics } from '../observability/metrics.ts';
import { instrumentVadModel } from '../session/session_metrics.ts';
import { TranscriptStore } from '../store/transcript_store.ts';
import type { AdmissionController } from '../transport/admission.ts';
import type { LiveSessions } from '../session/live_sessions.ts';
import { getSharedSileroModel } from '../vad/silero_model.ts';
import { VadBatcher } from '../vad/vad_batcher.ts';
import { getSharedWorkerVadModel } from '../vad/worker_vad_model.ts';

/** Refuses new sessions, lets running responses finish for up to graceMs, then cancels what is left. */
export async function drainSessions(
  admission: AdmissionController,
  sessions: LiveSessions,
  log: Logger,
  graceMs: number,
): Promise<void> {
  admission.drain();
  log.info({ graceMs, sessions: sessions.size, responses: sessions.inFlightResponses }, 'draining: no new sessions');
  await waitUntil(() => sessions.inFlightResponses === 0, graceMs);
  if (sessions.inFlightResponses > 0) {
    log.warn({ responses: sessions.inFlightResponses }, 'shutdown deadline: cancelling running responses');
    sessions.cancelResponses();
    // A cancelled response ends at its next token; give it a moment to send response.done.
    if (graceMs > 0) await waitUntil(() => sessions.inFlightResponses === 0, 1000);
  }
  sessions.markShutdown();
}

/** Programmatic servers (tests, benchmarks) keep nothing unless given a path; `earshot serve` resolves one. */
export function openStore(config: EarshotConfig, log: Logger, metrics: EarshotMetrics): TranscriptStore {
  const store = TranscriptStore.open({
    path: config.store.path ?? ':memory:',
    log,
    onWriteError: (err, sqliteCode) =>
      metrics.storeWriteErrors.inc({ code: sqliteCode === 'UNKNOWN' ? err.code : sqliteCode }),
  });
  const dangling = store.closeDanglingSessions();
  if (dangling > 0) log.warn({ sessions: dangling }, 'sessions cut off by the previous run were marked interrupted');
  return store;
}

/** The process's shared Silero model (not released: one per process) behind this server's batcher. */
export async function openVadBatcher(config: EarshotConfig, metrics: EarshotMetrics): Promise<VadBatcher> {
  const inWorkers = config.vad.inference_thread === 'worker';
  const model = instrumentVadModel(
    inWorkers ? await getSharedWorkerVadModel(config.vad.worker_threads) : await getSharedSileroModel(),
    metrics,
  );
  // One batch in flight per VAD thread: the in-thread model runs one batch at a time.
  return new VadBatcher(model, {
    maxBatchStreams: config.vad.batch_max_streams,
    maxBatchesInFlight: inWorkers ? config.vad.worker_threads : 1,
  });
}

/**
 * Three views of "behind real time": the event loop (sockets, decoding, events), the shared VAD (the ceiling
 * of concurrent streams while the event loop stays fast; lateness on each stream's own clock) and the engine
 * queue (how long sessions' turns and steps wait). Any refuses new sessions; a change tells admitted
 * sessions their remaining capacity at once.
 */
export function watchLoad(
  config: EarshotConfig,
  log: Logger,
  sources: { batcher: VadBatcher; engineWaitMs: () => number },
  onChange: () => void,
) {
  const watch = (what: string, limitMs: number, sampleDelayMs?: () => number) =>
    new LoadMonitor({
      maxEventLoopDelayMs: limitMs,
      sampleDelayMs,
      onChange: (overloaded, delayMs) => {
        if (overloaded)
          log.warn({ what, delayMs: Math.round(delayMs), limitMs }, 'server behind real time: refusing new sessions');
        else log.info({ what, delayMs: Math.round(delayMs) }, 'server back to real time: admitting sessions');
        onChange();
      },
    }).start();
  const loop = watch('event loop delay p99', config.limits.max_event_loop_delay_ms);
  const vad = watch('VAD lag', config.limits.max_vad_lag_ms, () => sources.batcher.takeMaxLagMs());
  const engine = watch('engine queue wait', config.limits.max_engine_wait_ms, sources.engineWaitMs);
  return {
    overloaded: () => loop.overloaded || vad.overloaded || engine.overloaded,
    overloadMessage: () =>
      loop.overloaded
        ? `The server is behind real time (event-loop delay p99 ${Math.round(loop.delayMs)} ms, limit ${loop.limitMs} ms); retry later.`
        : vad.overloaded
          ? `The server is behind real time (voice detection runs ${Math.round(vad.delayMs)} ms behind the audio, limit ${vad.limitMs} ms); retry later.`
          : engine.overloaded
            ? `The server is behind real time (sessions wait ${Math.round(engine.delayMs)} ms for the engine, limit ${engine.limitMs} ms); retry later.`
            : null,
    stop: () => {
      loop.stop();
      vad.stop();
      engine.stop();
    },
  };
}

/**
 * Admission by predicted capacity: each interval, the main event loop's utilization and the VAD threads'
 * busy fraction go into the estimate with the active session count. When its answer for one more session
 * changes (fits / does not), admitted sessions are told at once (onChange), as for the lag watches.
 */
export function watchCapacity(
  config: EarshotConfig,
  log: Logger,
  sources: { batcher: VadBatcher; activeSessions: () => number },
  onChange: () => void,
  intervalMs = DEFAULT_LOAD_INTERVAL_MS,
) {
  const estimate = new CapacityEstimate({
    maxUtilization: config.limits.admission_max_utilization,
    slowStartPerS: config.limits.admission_slow_start_per_s,
    minSessions: config.limits.admission_min_sessions,
    settleMs: config.limits.admission_settle_ms,
    costAfterMs: intervalMs,
  });
  if (!estimate.enabled) return { estimate, stop: () => {} };
  let lastElu = performance.eventLoopUtilization();
  let lastMs = performance.now();
  sources.batcher.takeBusyMs();
  let full = false;
  const timer = setInterval(() => {
    const nowMs = performance.now();
    const elu = performance.eventLoopUtilization(lastElu);
    lastElu = performance.eventLoopUtilization();
    const vadBusy = sources.batcher.takeBusyMs() / Math.max(1, (nowMs - lastMs) * sources.batcher.batchSlots);
    lastMs = nowMs;
    const sessions = sources.activeSessions();
    estimate.update({ 'event loop': elu.utilization, 'VAD thread': vadBusy }, sessions);
    const refusal = estimate.refusal(sessions);
    log.debug(
      {
        sessions,
        starting: estimate.startingSessions,
        loopBusy: round3(elu.utilization),
        loopCost: round3(estimate.costPerSession('event loop') ?? 0),
        vadBusy: round3(vadBusy),
        vadCost: round3(estimate.costPerSession('VAD thread') ?? 0),
        full: refusal !== null,
      },
      'capacity sample',
    );
    if ((refusal !== null) === full) return;
    full = refusal !== null;
    if (full)
      log.warn(
        { what: 'predicted capacity', sessions: sources.activeSessions(), reason: refusal },
        'at predicted capacity: refusing new sessions',
      );
    else log.info({ what: 'predicted capacity', sessions: sources.activeSessions() }, 'room for sessions again');
    onChange();
  }, intervalMs);
  timer.unref();
  return { estimate, stop: () => clearInterval(timer) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => (done() || performance.now() >= deadline ? resolve() : setTimeout(check, 20));
    check();
  });
}
