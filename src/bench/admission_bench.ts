// `earshot bench server --admission`: the whole server (tiny model, transcription sessions) with its load
// guards ON, and sessions arriving one by one over the run. Reports how many were admitted and refused
// (with the refusals' codes) and the admitted sessions' speech_stopped lag: the guard's job is to keep the
// admitted sessions real-time by refusing the rest. Figures, not a test.
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AdmissionClientsResult } from './admission_clients.ts';
import { configSchema } from '../config/schema.ts';
import { ensureFixtureModel } from '../engine/phi4mm/fixture/index.ts';
import { startServer } from '../main.ts';
import { pino } from 'pino';
import { measureServerDuringClients } from './ingest_bench.ts';
import { percentile, round } from './stats.ts';

const SERVER_CLIENTS_MAIN = fileURLToPath(new URL('./server_clients_main.ts', import.meta.url));

export interface AdmissionBenchOptions {
  clients: number;
  seconds: number;
  /** Arrivals spread over this many seconds (default: half the run). */
  arriveOverS?: number;
  audio?: string;
  maxTokens?: number;
  /** Guard bounds (default: the server's defaults, limits.* in the config). */
  maxVadLagMs?: number;
  maxEventLoopDelayMs?: number;
  maxEngineWaitMs?: number;
  /** limits.admission_max_utilization (0 = prediction off, the lag watches alone). */
  maxUtilization?: number;
  progress?: (message: string) => void;
}

export interface AdmissionBenchResult {
  clients: number;
  admitted: number;
  refused: number;
  refused_codes: Record<string, number>;
  lag_ms_p50: number;
  lag_ms_p99: number;
  /** Errors other than refusals: error events and early closes of admitted sessions. */
  errors: number;
  error_codes: Record<string, number>;
  /** Times each guard started refusing, with the largest delay it saw then (ms). */
  guard_trips: Record<string, { count: number; max_delay_ms: number }>;
  /** The capacity estimate's sample of each second (sessions, busy fractions and per-session costs). */
  capacity_trace: Record<string, unknown>[];
  closed_early: Record<string, number>;
  utterances: number;
  seconds: number;
  arrive_over_s: number;
  limits: {
    max_vad_lag_ms: number;
    max_event_loop_delay_ms: number;
    max_engine_wait_ms: number;
    admission_max_utilization: number;
    admission_slow_start_per_s: number;
  };
  server_cpu_pct: number;
  clients_cpu_pct: number;
  server_rss_mb: number;
  /** The machine's 1-minute load average at the end (the machine is shared: read the figures with it). */
  load_avg_1m: number;
  cpus: number;
}

export async function benchAdmission(opts: AdmissionBenchOptions): Promise<AdmissionBenchResult> {
  const log = (m: string) => opts.progress?.(m);
  const modelDir = await ensureFixtureModel('tiny');
  const maxTokens = opts.maxTokens ?? 8;
  const arriveOverS = opts.arriveOverS ?? opts.seconds / 2;
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0, max_connections: opts.clients + 10 },
    log: { level: 'silent' },
    model: { dir: modelDir },
    engine: { intra_op_threads: 1, max_pending_requests: Math.max(64, 4 * opts.clients) },
    agent: { caption_max_tokens: maxTokens, max_output_tokens: maxTokens, data_dir: ':memory:' },
    // max_sessions out of the way: the load guards, not a fixed count, decide who is admitted.
    limits: {
      max_sessions: opts.clients + 10,
      ...(opts.maxVadLagMs === undefined ? {} : { max_vad_lag_ms: opts.maxVadLagMs }),
      ...(opts.maxEventLoopDelayMs === undefined ? {} : { max_event_loop_delay_ms: opts.maxEventLoopDelayMs }),
      ...(opts.maxEngineWaitMs === undefined ? {} : { max_engine_wait_ms: opts.maxEngineWaitMs }),
      ...(opts.maxUtilization === undefined ? {} : { admission_max_utilization: opts.maxUtilization }),
    },
    store: { path: ':memory:' },
  });
  log(
    `starting the server (guards: VAD lag ${config.limits.max_vad_lag_ms} ms, event loop ${config.limits.max_event_loop_delay_ms} ms, engine wait ${config.limits.max_engine_wait_ms} ms, predicted utilization ${config.limits.admission_max_utilization})`,
  );
  const { logger, trips, trace } = guardLog();
  const running = await startServer(config, logger, { env: {} });
  if (running.engineUnavailable) throw running.engineUnavailable;
  try {
    const args = [
      '--import',
      'tsx',
      SERVER_CLIENTS_MAIN,
      '--url',
      running.url,
      '--clients',
      String(opts.clients),
      '--seconds',
      String(opts.seconds),
      '--query',
      'intent=transcription',
      '--arrive-over',
      String(arriveOverS),
    ];
    if (opts.audio) args.push('--audio', opts.audio);
    log(
      `${opts.clients} sessions arriving over ${arriveOverS} s, each streaming speech at real-time pace until ${opts.seconds} s`,
    );
    const { clients: r, server } = await measureServerDuringClients<AdmissionClientsResult>(args);
    const result: AdmissionBenchResult = {
      clients: opts.clients,
      admitted: r.admitted,
      refused: r.refused,
      refused_codes: r.refused_codes,
      lag_ms_p50: round(percentile(r.lags_ms, 50), 1),
      lag_ms_p99: round(percentile(r.lags_ms, 99), 1),
      errors: r.errors + Object.values(r.closed_early).reduce((a, b) => a + b, 0),
      error_codes: r.error_codes,
      guard_trips: trips,
      capacity_trace: trace,
      closed_early: r.closed_early,
      utterances: r.utterances,
      seconds: opts.seconds,
      arrive_over_s: arriveOverS,
      limits: {
        max_vad_lag_ms: config.limits.max_vad_lag_ms,
        max_event_loop_delay_ms: config.limits.max_event_loop_delay_ms,
        max_engine_wait_ms: config.limits.max_engine_wait_ms,
        admission_max_utilization: config.limits.admission_max_utilization,
        admission_slow_start_per_s: config.limits.admission_slow_start_per_s,
      },
      server_cpu_pct: server.cpuPct,
      clients_cpu_pct: r.clients_cpu_pct ?? 0,
      server_rss_mb: server.peakRssMb,
      load_avg_1m: round(loadavg()[0], 2),
      cpus: cpus().length,
    };
    await waitForEngineIdle(running.engine);
    return result;
  } finally {
    await running.close();
  }
}

/** Terminating the engine worker while onnxruntime runs aborts the process: let queued captions finish. */
export async function waitForEngineIdle(engine: unknown): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const totals = await (engine as { totals?: () => Promise<{ pendingRequests: number }> } | null)
      ?.totals?.()
      .catch(() => null);
    if (!totals || totals.pendingRequests === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The server's logger for the run: the guards' warnings (which guard tripped, how far behind) and the
 * capacity estimate's samples (debug level) are kept for the result; everything else is dropped.
 */
function guardLog() {
  const trips: Record<string, { count: number; max_delay_ms: number }> = {};
  const trace: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; what?: string; delayMs?: number };
        if (entry.msg === 'capacity sample') {
          const { level: _l, time: _t, pid: _p, hostname: _h, msg: _m, ...sample } = entry as Record<string, unknown>;
          trace.push(sample);
          return;
        }
        const refusing =
          entry.msg === 'server behind real time: refusing new sessions' ||
          entry.msg === 'at predicted capacity: refusing new sessions';
        if (!refusing || !entry.what) return;
        const trip = (trips[entry.what] ??= { count: 0, max_delay_ms: 0 });
        trip.count++;
        trip.max_delay_ms = Math.max(trip.max_delay_ms, entry.delayMs ?? 0);
      },
    },
  );
  return { logger, trips, trace };
}
