import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.ts';
import { OVERLOAD_GUARDS_OFF, type EarshotConfig } from '../config/schema.ts';
import { startServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';
import type { IngestClientsResult } from './ingest_clients.ts';
import { percentile, round } from './stats.ts';

export interface IngestBenchResult {
  clients: number;
  lag_ms_p50: number;
  lag_ms_p99: number;
  errors: number;
  server_cpu_pct: number;
  utterances: number;
  seconds: number;
  server_rss_mb: number;
  /** The server's own event-loop delay: separates server stalls from client-side delays. */
  server_loop_delay_ms_p99: number;
}

const EARSHOT_BIN = fileURLToPath(new URL('../cli/earshot.mjs', import.meta.url));

/**
 * Starts the server in this process (so its CPU time is measured alone) and the clients in a child
 * process, which streams at real-time pace and reports its measurements as JSON on stdout.
 */
export async function benchIngest(opts: {
  clients: number;
  seconds: number;
  audio?: string;
  config?: EarshotConfig;
}): Promise<IngestBenchResult> {
  // EARSHOT_* variables apply (e.g. EARSHOT_VAD_BATCH_MAX_STREAMS), as for `earshot serve`.
  const base = opts.config ?? loadConfig({ env: process.env, overrides: { log: { level: 'silent' } } });
  // Every client admitted (see server_bench.ts): the figures are what load does to admitted sessions.
  const config = {
    ...base,
    server: { ...base.server, max_connections: Math.max(base.server.max_connections, opts.clients + 10) },
    limits: {
      ...base.limits,
      max_sessions: Math.max(base.limits.max_sessions, opts.clients + 10),
      ...OVERLOAD_GUARDS_OFF,
    },
  };
  const running = await startServer(
    { ...config, server: { ...config.server, port: 0, host: '127.0.0.1' } },
    createLogger(config.log.level),
  );
  try {
    const args = [
      EARSHOT_BIN,
      'bench',
      'ingest-clients',
      '--url',
      running.url,
      '--clients',
      String(opts.clients),
      '--seconds',
      String(opts.seconds),
    ];
    if (opts.audio) args.push('--audio', opts.audio);
    const { clients: r, server } = await measureServerDuringClients(args);
    return {
      clients: opts.clients,
      lag_ms_p50: round(percentile(r.lags_ms, 50), 1),
      lag_ms_p99: round(percentile(r.lags_ms, 99), 1),
      errors: r.errors + (r.connected < opts.clients ? opts.clients - r.connected : 0),
      server_cpu_pct: server.cpuPct,
      utterances: r.utterances,
      seconds: opts.seconds,
      server_rss_mb: server.peakRssMb,
      server_loop_delay_ms_p99: server.loopDelayMsP99,
    };
  } finally {
    await running.close();
  }
}

export interface ServerMeasurement {
  /** Process CPU (main thread, engine worker and ONNX threads) over the clients' run, % of one core. */
  cpuPct: number;
  peakRssMb: number;
  loopDelayMsP99: number;
}

/**
 * Runs the clients as `node <nodeArgs>` in a child process (so the clients' CPU is not the server's) and
 * measures this process, which hosts the server, while it runs. The child prints its result as JSON.
 */
export async function measureServerDuringClients<T = IngestClientsResult>(
  nodeArgs: string[],
  opts: { onSample?: () => void } = {},
): Promise<{ clients: T; server: ServerMeasurement }> {
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    opts.onSample?.();
  }, 500);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearInterval(rssTimer);
  loopDelay.disable();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  if (code !== 0) throw new Error(`bench clients exited with ${code}`);
  return {
    clients: JSON.parse(stdout) as T,
    server: {
      cpuPct: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100, 1),
      peakRssMb: round(peakRss / 2 ** 20, 1),
      loopDelayMsP99: round(loopDelay.percentile(99) / 1e6, 1),
    },
  };
}
