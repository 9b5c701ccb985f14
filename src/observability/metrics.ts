import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Why a new session was refused (label of earshot_sessions_rejected_total). */
export type RejectReasonLabel =
  | 'unauthorized'
  | 'forbidden_origin'
  | 'max_sessions'
  | 'max_sessions_per_key'
  | 'draining'
  | 'engine_busy'
  | 'overloaded';
/** Why a session ended (label of earshot_sessions_ended_total). */
export type EndReasonLabel = 'client_closed' | 'max_duration' | 'idle_timeout' | 'shutdown' | 'error';

export interface EarshotMetrics {
  readonly registry: Registry;
  sessionsActive: Gauge;
  sessionsTotal: Counter;
  sessionsRejected: Counter<'reason'>;
  sessionsEnded: Counter<'reason'>;
  audioInputSeconds: Counter;
  vadWindowSeconds: Histogram;
  endOfUtteranceDelaySeconds: Histogram;
  asrLatencySeconds: Histogram;
  timeToFirstTokenSeconds: Histogram;
  tokensPerSecond: Histogram;
  engineQueueDepth: Gauge;
  kvCacheBytes: Gauge;
  errors: Counter<'code'>;
  storeWriteErrors: Counter<'code'>;
  /** Answers (or their rest) that Kokoro handed to the fallback voice for being slower than real time. */
  ttsKokoroFallbacks: Counter<'reason'>;
}

export interface MetricsOptions {
  /** Process CPU, memory, event-loop lag and GC (prom-client's defaults); on unless turned off for tests. */
  collectProcessMetrics?: boolean;
  prefix?: string;
}

/**
 * One registry per server (never prom-client's global one, so several servers in one test process do not
 * collide). Callers hold the typed handles: `metrics.sessionsActive.inc()`, `metrics.errors.inc({ code })`.
 */
export function createMetrics(opts: MetricsOptions = {}): EarshotMetrics {
  const registry = new Registry();
  const p = opts.prefix ?? 'earshot_';
  if (opts.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });
  const registers = [registry];
  return {
    registry,
    sessionsActive: new Gauge({ name: `${p}sessions_active`, help: 'Realtime sessions open now.', registers }),
    sessionsTotal: new Counter({
      name: `${p}sessions_total`,
      help: 'Realtime sessions admitted since start.',
      registers,
    }),
    sessionsRejected: new Counter({
      name: `${p}sessions_rejected_total`,
      help: 'Sessions refused, by reason (unauthorized, forbidden_origin, max_sessions, max_sessions_per_key, draining, engine_busy).',
      labelNames: ['reason'] as const,
      registers,
    }),
    sessionsEnded: new Counter({
      name: `${p}sessions_ended_total`,
      help: 'Sessions ended, by reason (client_closed, max_duration, idle_timeout, shutdown, error).',
      labelNames: ['reason'] as const,
      registers,
    }),
    audioInputSeconds: new Counter({
      name: `${p}audio_input_seconds_total`,
      help: 'Seconds of input audio received (sample clock).',
      registers,
    }),
    // One Silero window is 32 ms of audio; measured batched cost is 0.1-2 ms per window, so buckets
    // span 50 us to 32 ms (at 32 ms VAD no longer keeps up with real time).
    vadWindowSeconds: new Histogram({
      name: `${p}vad_window_seconds`,
      help: 'Compute time per 32 ms VAD window (batched call time divided by its windows), in seconds.',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032],
      registers,
    }),
    // From the end of speech (audio time) to input_audio_buffer.committed: silence_duration_ms (500 ms by
    // default) plus pipeline lag, hence buckets around 0.1-5 s.
    endOfUtteranceDelaySeconds: new Histogram({
      name: `${p}end_of_utterance_delay_seconds`,
      help: 'Delay from the end of speech to the utterance commit, in seconds.',
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5],
      registers,
    }),
    asrLatencySeconds: new Histogram({
      name: `${p}asr_latency_seconds`,
      help: 'From utterance commit to transcript completed, in seconds.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
      registers,
    }),
    timeToFirstTokenSeconds: new Histogram({
      name: `${p}time_to_first_token_seconds`,
      help: 'From response start to its first text delta, in seconds.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
      registers,
    }),
    tokensPerSecond: new Histogram({
      name: `${p}tokens_per_second`,
      help: 'Decode speed of one response (generated tokens / decode time).',
      buckets: [1, 2, 5, 10, 20, 40, 80, 160, 320, 640],
      registers,
    }),
    engineQueueDepth: new Gauge({
      name: `${p}engine_queue_depth`,
      help: 'Engine work items waiting to run.',
      registers,
    }),
    kvCacheBytes: new Gauge({
      name: `${p}kv_cache_bytes`,
      help: 'Bytes held by KV caches of open sessions.',
      registers,
    }),
    errors: new Counter({
      name: `${p}errors_total`,
      help: 'Errors reported, by Earshot error code.',
      labelNames: ['code'] as const,
      registers,
    }),
    storeWriteErrors: new Counter({
      name: `${p}store_write_errors_total`,
      help: 'Transcript store writes that failed (read-only database, disk full...), by error code; serving continues.',
      labelNames: ['code'] as const,
      registers,
    }),
    ttsKokoroFallbacks: new Counter({
      name: `${p}tts_kokoro_fallbacks_total`,
      help: 'Spoken answers continued by the fallback voice because Kokoro ran slower than real time (warmup_slow, running_slow, recently_slow).',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}

/** The Prometheus text exposition of a registry, with its content type. */
export async function renderMetrics(metrics: EarshotMetrics): Promise<{ contentType: string; body: string }> {
  return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}
