// `earshot bench ephemeral-keys`: memory held by ephemeral keys minted with the largest preset the server
// allows (auth.max_ephemeral_preset_bytes). A real server (this process) with several API keys; `keys`
// mint requests go through POST /v1/realtime/client_secrets; the heap is measured after a full GC before
// and after. The pool's byte bounds (per key, total) refuse what would pass them: the figure shows what
// they hold the memory to. Figures, not a test.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { configSchema } from '../config/schema.ts';
import { startServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';

export interface EphemeralKeysBenchOptions {
  /** Mint requests in all (default 10,000). */
  keys?: number;
  /** API keys the requests are spread over (default 10). */
  apiKeys?: number;
}

export interface EphemeralKeysBenchResult {
  requested: number;
  minted: number;
  refused: Record<string, number>;
  preset_bytes: number;
  /** What the server accounts the pool at (presets plus per-key overhead). */
  accounted_mb: number;
  heap_mb_delta: number;
  rss_mb_delta: number;
  limits: {
    max_ephemeral_preset_bytes: number;
    max_ephemeral_bytes_per_key: number;
    max_ephemeral_bytes_total: number;
    max_ephemeral_keys: number;
  };
}

function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** The largest preset a key may carry: the longest instructions allowed, a tool's description filling the rest. */
function largestPreset(presetBytes: number, instructionsBytes: number): object {
  const instructions = 'x'.repeat(Math.min(instructionsBytes, presetBytes) - 16);
  const base = {
    type: 'realtime',
    instructions,
    tools: [{ type: 'function', name: 'lookup', description: '', parameters: { type: 'object', properties: {} } }],
  };
  const room = presetBytes - Buffer.byteLength(JSON.stringify(base)) - 1;
  base.tools[0].description = 'd'.repeat(Math.max(0, room));
  return base;
}

export async function benchEphemeralKeys(opts: EphemeralKeysBenchOptions = {}): Promise<EphemeralKeysBenchResult> {
  const requested = opts.keys ?? 10_000;
  const apiKeys = Array.from(
    { length: opts.apiKeys ?? 10 },
    (_, i) => `bench-key-${String(i).padStart(4, '0')}-0123456789`,
  );
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    auth: { api_keys: apiKeys },
    store: { path: ':memory:' },
    agent: { data_dir: ':memory:' },
  });
  const running = await startServer(config, createLogger('silent'), { env: {}, engine: null });
  const preset = largestPreset(config.auth.max_ephemeral_preset_bytes, config.limits.max_instructions_bytes);
  const body = JSON.stringify({ session: preset });
  const refused: Record<string, number> = {};
  let minted = 0;
  try {
    fullGc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < requested; i = next++) {
        const res = await fetch(`${running.httpUrl}/v1/realtime/client_secrets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKeys[i % apiKeys.length]}`, 'content-type': 'application/json' },
          body,
        });
        const answer = (await res.json()) as { value?: string; error?: { code?: string } };
        if (res.status === 200 && answer.value) minted++;
        else {
          const key = `${res.status} ${answer.error?.code ?? 'unknown'}`;
          refused[key] = (refused[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    fullGc();
    const mem = process.memoryUsage();
    return {
      requested,
      minted,
      refused,
      preset_bytes: Buffer.byteLength(JSON.stringify(preset)),
      accounted_mb: Math.round((running.auth.ephemeralBytesHeld / 2 ** 20) * 10) / 10,
      heap_mb_delta: Math.round(((mem.heapUsed - heap0) / 2 ** 20) * 10) / 10,
      rss_mb_delta: Math.round(((mem.rss - rss0) / 2 ** 20) * 10) / 10,
      limits: {
        max_ephemeral_preset_bytes: config.auth.max_ephemeral_preset_bytes,
        max_ephemeral_bytes_per_key: config.auth.max_ephemeral_bytes_per_key,
        max_ephemeral_bytes_total: config.auth.max_ephemeral_bytes_total,
        max_ephemeral_keys: config.auth.max_ephemeral_keys,
      },
    };
  } finally {
    await running.close();
  }
}
