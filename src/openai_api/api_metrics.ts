// Prometheus series of the OpenAI-compatible API, registered on the server's own registry.
import { Counter, Gauge } from 'prom-client';
import type { EarshotMetrics } from '../observability/metrics.ts';
import type { PrefixCache } from './prefix_cache.ts';

export type ApiEndpoint = 'models' | 'transcriptions' | 'translations' | 'chat_completions' | 'speech';
/** ok: answered; error: answered with an error; aborted: the client went away (e.g. a barge-in upstream). */
export type ApiOutcome = 'ok' | 'error' | 'aborted';

export interface ApiMetrics {
  requests: Counter<'endpoint' | 'outcome'>;
}

export function createApiMetrics(metrics: EarshotMetrics | undefined, cache: PrefixCache): ApiMetrics | undefined {
  if (!metrics) return undefined;
  const registers = [metrics.registry];
  const requests = new Counter({
    name: 'earshot_api_requests_total',
    help: 'OpenAI-compatible API requests by endpoint and outcome (aborted: the client closed the connection first).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers,
  });
  new Gauge({
    name: 'earshot_api_prefix_cache_bytes',
    help: 'KV-cache bytes held by chat conversations kept for prefix reuse.',
    registers,
    collect() {
      this.set(cache.stats().bytes);
    },
  });
  new Gauge({
    name: 'earshot_api_prefix_cache_entries',
    help: 'Chat conversations kept for prefix reuse.',
    registers,
    collect() {
      this.set(cache.stats().entries);
    },
  });
  new Gauge({
    name: 'earshot_api_prefix_cache_hits',
    help: 'Chat requests that continued a cached conversation, since start.',
    registers,
    collect() {
      this.set(cache.stats().hits);
    },
  });
  new Gauge({
    name: 'earshot_api_prefix_cache_misses',
    help: 'Chat requests that started a fresh session, since start.',
    registers,
    collect() {
      this.set(cache.stats().misses);
    },
  });
  return { requests };
}
