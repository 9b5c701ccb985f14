import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  authSchema,
  authLimitsStoreSections,
  limitsSchema,
  storeSchema,
} from '../../../src/config/auth_limits_store_schema.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';

describe('metrics', () => {
  it('one registry per instance: two servers in a process do not collide', async () => {
    const a = createMetrics({ collectProcessMetrics: false });
    const b = createMetrics({ collectProcessMetrics: false });
    a.sessionsActive.inc();
    a.errors.inc({ code: 'E_ENGINE' });
    a.asrLatencySeconds.observe(0.3);
    a.audioInputSeconds.inc(1.5);
    const text = await a.registry.metrics();
    expect(text).toContain('earshot_sessions_active 1');
    expect(text).toContain('earshot_errors_total{code="E_ENGINE"} 1');
    expect(text).toContain('earshot_asr_latency_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('earshot_audio_input_seconds_total 1.5');
    expect(await b.registry.metrics()).toContain('earshot_sessions_active 0');
  });
});

describe('auth, limits and store config sections', () => {
  it('defaults', () => {
    const cfg = z.object(authLimitsStoreSections).parse({});
    expect(cfg).toEqual({
      auth: {
        api_keys: [],
        allowed_origins: [],
        allow_unauthenticated_non_loopback: false,
        ephemeral_key_ttl_s: 600,
        max_ephemeral_keys: 10_000,
        max_ephemeral_keys_per_key: 1000,
        max_ephemeral_preset_bytes: 96 * 1024,
        max_ephemeral_bytes_per_key: 16 * 1024 * 1024,
        max_ephemeral_bytes_total: 128 * 1024 * 1024,
      },
      limits: {
        max_sessions: 256,
        max_sessions_per_key: 64,
        max_session_duration_ms: 3_600_000,
        max_event_loop_delay_ms: 250,
        idle_timeout_ms: 600_000,
        max_vad_lag_ms: 300,
        admission_max_utilization: 0.7,
        admission_slow_start_per_s: 5,
        admission_settle_ms: 5000,
        admission_min_sessions: 8,
        max_engine_wait_ms: 2000,
        max_item_text_bytes: 128 * 1024,
        max_instructions_bytes: 64 * 1024,
        max_queued_turns: 16,
        max_text_event_bytes: 512 * 1024,
        max_pending_text_bytes: 512 * 1024,
      },
      store: { retention_days: 0 },
    });
  });

  it('every option is described', () => {
    for (const schema of [authSchema, limitsSchema, storeSchema]) {
      for (const [key, option] of Object.entries(schema.shape))
        expect((option as z.ZodType).description, key).toBeTruthy();
    }
  });

  it('rejects unknown keys and out-of-range values', () => {
    expect(() => limitsSchema.parse({ max_sesions: 3 })).toThrow();
    expect(() => authSchema.parse({ ephemeral_key_ttl_s: 5 })).toThrow();
    expect(() => storeSchema.parse({ retention_days: -1 })).toThrow();
  });
});
