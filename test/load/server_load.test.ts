import { describe, expect, it } from 'vitest';
import { benchServer } from '../../src/bench/server_bench.ts';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { startTestServer } from '../helpers/test_server.ts';
import { TestClient } from '../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../integration/agent/agent_server.ts';

// The server load case at the scale an automated test can afford on a 2-core machine: the full
// benchmark path (clients in a separate process at real-time pace, tiny model, store, metrics). The
// 200-session / 60 s case is `earshot bench server --clients 200 --seconds 60 [--format pcm16-binary]`
// (figures in the README).
// Nothing here asserts a speed: only correctness under concurrency.
describe('load', () => {
  it.each(['pcm24-json', 'pcm16-binary'] as const)(
    '8 real-time sessions for 8 s (%s) through the whole server: no errors, every utterance committed, transcribed and stored',
    async (format) => {
      const r = await benchServer({ clients: 8, seconds: 8, format });
      expect(r.audio_format).toBe(format);
      expect(r.errors, JSON.stringify(r.error_codes)).toBe(0);
      expect(r.closed_early).toEqual({});
      expect(r.utterances_committed).toBeGreaterThanOrEqual(8);
      expect(r.utterances_transcribed).toBe(r.utterances_committed);
      expect(r.sessions_stored).toBe(8);
      expect(r.utterances_stored).toBe(r.utterances_committed);
      expect(r.lag_ms_p99).toBeGreaterThan(0);
      expect(r.clients_cpu_pct).toBeGreaterThan(0);
    },
    120_000,
  );

  it('past capacity new sessions are refused (503) while the admitted ones are served completely', async () => {
    const server = await startTestServer({ limits: { max_sessions: 3 } }, { engine: new ScriptedEngine() });
    try {
      const admitted = await Promise.all([0, 1, 2].map(() => TestClient.connect(`${server.url}?intent=transcription`)));
      const refused = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<number>((resolve, reject) => {
              const c = TestClient.connect(server.url);
              c.then(
                () => reject(new Error('admitted past capacity')),
                (err: Error) => resolve(Number(/(\d{3})/.exec(err.message)?.[1] ?? 0)),
              );
            }),
        ),
      );
      expect(refused).toEqual([503, 503, 503]);
      const speech = placeWithGaps({ clips: [CARD_CLIPS[0], CARD_CLIPS[2]], gapsMs: [400, 1000, 1200] }).samples16k;
      for (const c of admitted) {
        await use16kBinary(c);
        streamPcm16k(c, speech);
      }
      for (const c of admitted) {
        await c.waitFor(() => c.ofType('conversation.item.input_audio_transcription.completed').length === 2, 20_000);
        expect(c.ofType('error')).toEqual([]);
      }
      expect(await server.metrics.registry.getSingleMetricAsString('earshot_sessions_rejected_total')).toContain(
        'reason="max_sessions"} 3',
      );
      await Promise.all(admitted.map((c) => c.close()));
    } finally {
      await server.close();
    }
  }, 60_000);
});
