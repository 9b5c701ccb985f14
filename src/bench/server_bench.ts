// `earshot bench server`: the whole server (auth off on loopback, admission, transcript store, metrics,
// VAD, the engine worker with the generated tiny Phi-4-mm model) under N real-time speech clients run in
// a separate process. Figures, not a test: nothing here asserts a speed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OVERLOAD_GUARDS_OFF, configSchema } from '../config/schema.ts';
import { ensureFixtureModel } from '../engine/phi4mm/fixture/index.ts';
import { startServer, type RunningServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';
import { measureServerDuringClients } from './ingest_bench.ts';
import type { ClientAudioFormat } from './ingest_clients.ts';
import { percentile, round } from './stats.ts';
import { gcMode, type GcMode } from '../observability/gc_mode.ts';

/** The clients' process: a script of its own, so the benchmark does not depend on CLI wiring. */
const SERVER_CLIENTS_MAIN = fileURLToPath(new URL('./server_clients_main.ts', import.meta.url));

export interface ServerBenchOptions {
  clients: number;
  seconds: number;
  audio?: string;
  /** Realtime sessions (every utterance answered) instead of transcription sessions (captions only). */
  realtime?: boolean;
  /** Caption (and answer) length cap in tokens: the tiny model's text is noise that never stops by itself. */
  maxTokens?: number;
  /** How the clients send audio (default pcm24-json, what the OpenAI SDKs send). */
  format?: ClientAudioFormat;
  /** engine.batch_max_rows (default 16) and engine.worker_nice (default 0). */
  batchMaxRows?: number;
  engineNice?: number;
  vadWorkers?: number;
  progress?: (message: string) => void;
}

export interface ServerBenchResult {
  clients: number;
  lag_ms_p50: number;
  lag_ms_p99: number;
  errors: number;
  server_cpu_pct: number;
  server_rss_mb: number;
  /** The clients' process shares the machine: its CPU, to read server_cpu_pct against. */
  clients_cpu_pct: number;
  seconds: number;
  session_type: 'transcription' | 'realtime';
  audio_format: ClientAudioFormat;
  /** The server's (this process's) V8 garbage collector mode: see src/observability/gc_mode.ts. */
  gc: GcMode;
  vad_workers: number;
  utterances_committed: number;
  utterances_transcribed: number;
  asr_ms_p50: number;
  asr_ms_p99: number;
  error_codes: Record<string, number>;
  closed_early: Record<string, number>;
  server_rss_mb_start: number;
  server_heap_mb_peak: number;
  server_loop_delay_ms_p99: number;
  kv_mb_peak: number;
  engine_queue_peak: number;
  /** One-token steps per batched text-graph run (engine.batch_max_rows caps it). */
  engine_batch_rows_mean: number;
  sessions_stored: number;
  utterances_stored: number;
}

/** The sessions (up to `limit`, a page of 100 at a time) and utterances the server's store kept. */
function storedSessions(store: RunningServer['store'], limit: number) {
  let sessions = store.listSessions({ limit: 100 }).sessions;
  let after = sessions.at(-1)?.id;
  while (after && sessions.length < limit) {
    const next = store.listSessions({ limit: 100, after });
    if (next.sessions.length === 0) break;
    sessions = sessions.concat(next.sessions);
    after = next.sessions.at(-1)?.id;
  }
  let utterancesStored = 0;
  for (const s of sessions) utterancesStored += store.getUtterances(s.id).length;
  return { sessions, utterancesStored };
}

/** The server's configuration for the benchmark: loopback, silent, in-memory agent data, nothing refused. */
function benchServerConfig(opts: ServerBenchOptions, modelDir: string, dir: string) {
  const maxTokens = opts.maxTokens ?? 8;
  return configSchema.parse({
    server: { host: '127.0.0.1', port: 0, max_connections: opts.clients + 10 },
    log: { level: 'silent' },
    model: { dir: modelDir },
    // One ONNX thread for the engine leaves the other core to the event loop (VAD, sockets, store).
    engine: {
      intra_op_threads: 1,
      max_pending_requests: Math.max(64, 4 * opts.clients),
      batch_max_rows: opts.batchMaxRows ?? 16,
      worker_nice: opts.engineNice ?? 0,
    },
    agent: { caption_max_tokens: maxTokens, max_output_tokens: maxTokens, data_dir: ':memory:' },
    vad: { worker_threads: opts.vadWorkers ?? 1 },
    // Every client is admitted: the benchmark measures what load does to admitted sessions (the overload
    // guard would otherwise refuse clients when start-up work delays the loop).
    limits: {
      max_sessions: opts.clients + 10,
      ...OVERLOAD_GUARDS_OFF,
    },
    store: { path: join(dir, 'bench.sqlite') },
  });
}

/** Node arguments that run the clients' process against the server at `url`. */
function clientsProcessArgs(opts: ServerBenchOptions, url: string): string[] {
  const args = [
    '--import',
    'tsx',
    SERVER_CLIENTS_MAIN,
    '--url',
    url,
    '--clients',
    String(opts.clients),
    '--seconds',
    String(opts.seconds),
  ];
  if (!opts.realtime) args.push('--query', 'intent=transcription');
  if (opts.audio) args.push('--audio', opts.audio);
  args.push('--format', opts.format ?? 'pcm24-json');
  return args;
}

/** Polls the engine until no request is pending (at most 600 polls, 200 ms apart). */
async function waitForEngineIdle(running: RunningServer): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const totals = await (running.engine as { totals?: () => Promise<{ pendingRequests: number }> } | null)
      ?.totals?.()
      .catch(() => null);
    if (!totals || totals.pendingRequests === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function benchServer(opts: ServerBenchOptions): Promise<ServerBenchResult> {
  const log = (m: string) => opts.progress?.(m);
  log('preparing the tiny fixture model');
  const modelDir = await ensureFixtureModel('tiny');
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-server-'));
  const config = benchServerConfig(opts, modelDir, dir);
  const rssStart = process.memoryUsage().rss;
  log('starting the server');
  const running = await startServer(config, createLogger('silent'), { env: {} });
  if (running.engineUnavailable) throw running.engineUnavailable;
  let kvPeak = 0;
  let queuePeak = 0;
  let heapPeak = 0;
  let batches = { batchRuns: 0, batchRows: 0 };
  const sample = () => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    const totals = (
      running.engine as {
        totals?: () => Promise<{ kvBytes: number; pendingRequests: number; batchRuns: number; batchRows: number }>;
      } | null
    )?.totals;
    void totals?.call(running.engine).then(
      (t) => {
        kvPeak = Math.max(kvPeak, t.kvBytes);
        queuePeak = Math.max(queuePeak, t.pendingRequests);
        batches = t;
      },
      () => undefined,
    );
  };
  try {
    const args = clientsProcessArgs(opts, running.url);
    log(`streaming: ${opts.clients} clients x ${opts.seconds} s of speech at real-time pace`);
    const { clients: r, server } = await measureServerDuringClients(args, { onSample: sample });
    log('clients finished; reading the store');
    // Sessions end when the clients close: let the server record that before counting.
    for (let i = 0; i < 200 && running.sessions.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const { sessions, utterancesStored } = storedSessions(running.store, opts.clients + 10);
    const result: ServerBenchResult = {
      clients: opts.clients,
      lag_ms_p50: round(percentile(r.lags_ms, 50), 1),
      lag_ms_p99: round(percentile(r.lags_ms, 99), 1),
      errors:
        r.errors + Math.max(0, opts.clients - r.connected) + Object.values(r.closed_early).reduce((a, b) => a + b, 0),
      server_cpu_pct: server.cpuPct,
      server_rss_mb: server.peakRssMb,
      clients_cpu_pct: r.clients_cpu_pct ?? 0,
      seconds: opts.seconds,
      session_type: opts.realtime ? 'realtime' : 'transcription',
      audio_format: opts.format ?? 'pcm24-json',
      gc: gcMode(),
      vad_workers: config.vad.worker_threads,
      utterances_committed: r.committed,
      utterances_transcribed: r.transcribed,
      asr_ms_p50: round(percentile(r.asr_ms, 50), 1),
      asr_ms_p99: round(percentile(r.asr_ms, 99), 1),
      error_codes: r.error_codes,
      closed_early: r.closed_early,
      server_rss_mb_start: round(rssStart / 2 ** 20, 1),
      server_heap_mb_peak: round(heapPeak / 2 ** 20, 1),
      server_loop_delay_ms_p99: server.loopDelayMsP99,
      kv_mb_peak: round(kvPeak / 2 ** 20, 1),
      engine_queue_peak: queuePeak,
      engine_batch_rows_mean: round(batches.batchRows / Math.max(1, batches.batchRuns), 1),
      sessions_stored: sessions.length,
      utterances_stored: utterancesStored,
    };
    log(`result: ${JSON.stringify(result)}`);
    // Terminating the engine worker while onnxruntime runs aborts the process (onnxruntime-node), so
    // captions still queued for the departed clients are let finish first (bounded).
    log('waiting for the engine to go idle');
    await waitForEngineIdle(running);
    return result;
  } finally {
    log('stopping the server');
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
