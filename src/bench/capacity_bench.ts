// `earshot bench capacity`: the largest number of real-time transcription sessions this machine holds with
// the admitted sessions' speech_stopped lag p99 under a target (200 ms), found by a sweep of `bench server`
// runs (guards off, so the count alone decides the load), reported beside the machine's Silero throughput
// (`realtime_streams` of `bench vad`, one VAD thread) measured in the same run: the ratio compares across
// machines where the absolute counts do not. Figures, not a test.
import { loadavg } from 'node:os';
import { loadBenchSpeech16k } from './bench_audio.ts';
import { benchServer } from './server_bench.ts';
import { benchVad } from './vad_bench.ts';

export interface CapacityBenchOptions {
  /** Lag p99 a session count must hold, ms (default 200). */
  targetLagMs?: number;
  /** Streaming time of each sweep step, s (default 20). */
  seconds?: number;
  /** Sweep bounds: first count tried and the largest considered (defaults 25 and 400). */
  startClients?: number;
  maxClients?: number;
  /** Stop bisecting when the bracket is this narrow (default 10 sessions). */
  resolution?: number;
  audio?: string;
  progress?: (message: string) => void;
}

export interface CapacityStep {
  clients: number;
  lag_ms_p99: number;
  errors: number;
  holds: boolean;
}

export interface CapacityBenchResult {
  target_lag_ms: number;
  /** Largest session count that held the target (0: not even the first step). */
  sessions: number;
  /** `realtime_streams` of `bench vad` (one VAD worker thread), same run. */
  realtime_streams: number;
  /** sessions / realtime_streams. */
  ratio: number;
  steps: CapacityStep[];
  seconds_per_step: number;
  load_avg_1m_start: number;
  load_avg_1m_end: number;
}

export async function benchCapacity(opts: CapacityBenchOptions = {}): Promise<CapacityBenchResult> {
  const target = opts.targetLagMs ?? 200;
  const seconds = opts.seconds ?? 20;
  const maxClients = opts.maxClients ?? 400;
  const resolution = opts.resolution ?? 10;
  const log = (m: string) => opts.progress?.(m);
  const loadStart = loadavg()[0];
  log('measuring Silero throughput (bench vad)');
  const vad = await benchVad(await loadBenchSpeech16k(opts.audio));
  const realtimeStreams =
    vad.worker_threads.find((w) => w.threads === 1)?.realtime_streams ?? vad.worker_threads[0]?.realtime_streams ?? 0;
  const steps: CapacityStep[] = [];
  const tryCount = async (clients: number): Promise<boolean> => {
    log(`sweep: ${clients} sessions for ${seconds} s`);
    const r = await benchServer({ clients, seconds, audio: opts.audio });
    const holds = r.errors === 0 && r.lag_ms_p99 < target && r.utterances_committed > 0;
    steps.push({ clients, lag_ms_p99: r.lag_ms_p99, errors: r.errors, holds });
    log(`  lag p99 ${r.lag_ms_p99} ms, errors ${r.errors}: ${holds ? 'holds' : 'does not hold'}`);
    return holds;
  };
  // Doubling from the start until a count fails (or the maximum holds), then bisection of the bracket.
  let good = 0;
  let bad = maxClients + 1;
  for (let n = Math.min(opts.startClients ?? 25, maxClients); ; n = Math.min(2 * n, maxClients)) {
    if (await tryCount(n)) good = n;
    else {
      bad = n;
      break;
    }
    if (n === maxClients) break;
  }
  while (bad - good > resolution && bad <= maxClients) {
    const mid = Math.round((good + bad) / 2);
    if (await tryCount(mid)) good = mid;
    else bad = mid;
  }
  return {
    target_lag_ms: target,
    sessions: good,
    realtime_streams: realtimeStreams,
    ratio: realtimeStreams > 0 ? Math.round((good / realtimeStreams) * 1000) / 1000 : 0,
    steps,
    seconds_per_step: seconds,
    load_avg_1m_start: Math.round(loadStart * 100) / 100,
    load_avg_1m_end: Math.round(loadavg()[0] * 100) / 100,
  };
}
