// `earshot bench fairness`: one key's response latency while another key floods the shared engine with
// huge text items. The whole server with the tiny model and two API keys; a probe client (key P) sends a
// small out-of-band response.create, waits for response.done, and repeats; a flood client (key F) sends
// one 4 MB item, then (scenario two) 100 items of 1 MB at once. Figures, not a test.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { configSchema } from '../config/schema.ts';
import { ensureFixtureModel } from '../engine/phi4mm/fixture/index.ts';
import { startServer, type RunningServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';
import { percentile, round } from './stats.ts';

/** The flooding client runs in its own process (its frames must not cost the server's event loop). */
const FLOOD_MAIN = fileURLToPath(new URL('./fairness_flood_main.ts', import.meta.url));
const PROBE_KEY = 'sk-bench-fairness-probe-0001';
const FLOOD_KEY = 'sk-bench-fairness-flood-0001';

export interface FairnessBenchOptions {
  /** Longest a flood scenario is measured, in s (the flood may still be running then). */
  seconds?: number;
  /** Pause between probes, in ms. */
  probeIntervalMs?: number;
  /** Raise the per-connection text bounds so the flood reaches the engine (the bounds' effect apart). */
  unbounded?: boolean;
  progress?: (message: string) => void;
}

export interface ScenarioResult {
  probes: number;
  latency_ms_p50: number;
  latency_ms_p99: number;
  latency_ms_max: number;
  /** The flood's items: accepted by the server, and refused with each error code. */
  flood_items_accepted: number;
  flood_errors: Record<string, number>;
}

export interface FairnessBenchResult {
  quiet: ScenarioResult;
  one_4mb_item: ScenarioResult;
  hundred_1mb_items: ScenarioResult;
  unbounded: boolean;
  seconds: number;
}

export async function benchFairness(opts: FairnessBenchOptions = {}): Promise<FairnessBenchResult> {
  const seconds = opts.seconds ?? 20;
  const progress = opts.progress ?? (() => {});
  const modelDir = await ensureFixtureModel('tiny');
  const huge = 64 * 1024 * 1024;
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0, max_message_bytes: 8 * 1024 * 1024 },
    log: { level: 'silent' },
    model: { dir: modelDir },
    auth: { api_keys: [PROBE_KEY, FLOOD_KEY] },
    engine: { intra_op_threads: 1, max_pending_requests: 4096 },
    limits: {
      max_event_loop_delay_ms: 0,
      admission_max_utilization: 0,
      ...(opts.unbounded
        ? {
            max_item_text_bytes: huge,
            max_pending_text_bytes: huge,
            max_text_event_bytes: huge,
            max_queued_turns: 1000,
          }
        : {}),
    },
  });
  const server = await startServer(config, createLogger('silent'), { env: {} });
  try {
    const run = async (items: number, itemBytes: number): Promise<ScenarioResult> => {
      const probe = await Client.open(server, PROBE_KEY);
      const flood = items === 0 ? null : new FloodProcess(server.url, items, itemBytes);
      try {
        // Quiet: a short baseline. Flood: until every flood item is settled (and 20 probes after), or `seconds`.
        const latencies = await probe.probe(
          items === 0 ? 10_000 : seconds * 1000,
          opts.probeIntervalMs ?? 50,
          () => flood === null || flood.last.settled >= items,
        );
        return {
          probes: latencies.length,
          latency_ms_p50: round(percentile(latencies, 50), 1),
          latency_ms_p99: round(percentile(latencies, 99), 1),
          latency_ms_max: round(Math.max(...latencies), 1),
          flood_items_accepted: flood?.last.accepted ?? 0,
          flood_errors: flood?.last.errors ?? {},
        };
      } finally {
        probe.close();
        flood?.stop();
      }
    };
    progress('quiet: probes only');
    const quiet = await run(0, 0);
    progress('one 4 MB item');
    const one = await run(1, 4_000_000);
    progress('100 x 1 MB items');
    const hundred = await run(100, 1_000_000);
    return { quiet, one_4mb_item: one, hundred_1mb_items: hundred, unbounded: opts.unbounded ?? false, seconds };
  } finally {
    await server.close();
  }
}

/** The flooding client's process and the last progress it reported. */
class FloodProcess {
  last: { settled: number; accepted: number; errors: Record<string, number> } = { settled: 0, accepted: 0, errors: {} };
  private readonly child;

  constructor(url: string, items: number, bytes: number) {
    const args = [
      '--import',
      'tsx',
      FLOOD_MAIN,
      '--url',
      url,
      '--key',
      FLOOD_KEY,
      '--items',
      String(items),
      '--bytes',
      String(bytes),
    ];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.last = JSON.parse(line) as FloodProcess['last'];
    });
  }

  stop(): void {
    this.child.kill();
  }
}

/** One WebSocket client with the few events the benchmark needs. */
class Client {
  private waiters: ((e: { type: string }) => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const event = JSON.parse(String(data)) as { type: string };
      for (const w of this.waiters) w(event);
    });
  }

  static open(server: RunningServer, key: string): Promise<Client> {
    const ws = new WebSocket(server.url, { headers: { authorization: `Bearer ${key}` }, maxPayload: 0 });
    return new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => resolve(new Client(ws)));
    });
  }

  /** Response latencies (send -> response.done) for `durationMs`, or until `stop()`. */
  async probe(durationMs: number, intervalMs: number, stop: () => boolean): Promise<number[]> {
    const latencies: number[] = [];
    const end = performance.now() + durationMs;
    let n = 0;
    while (performance.now() < end) {
      const started = performance.now();
      const done = this.next((e) => e.type === 'response.done');
      this.ws.send(
        JSON.stringify({
          type: 'response.create',
          event_id: `probe_${n++}`,
          response: {
            conversation: 'none',
            max_output_tokens: 4,
            input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] }],
          },
        }),
      );
      await done;
      latencies.push(performance.now() - started);
      if (stop() && latencies.length >= 20) break;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    return latencies;
  }

  close(): void {
    this.ws.close();
  }

  private next(predicate: (e: { type: string }) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const waiter = (e: { type: string }) => {
        if (!predicate(e)) return;
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }
}
