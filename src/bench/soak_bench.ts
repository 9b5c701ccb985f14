// `earshot bench soak`: one realtime session on a real server socket with the default configuration and
// the generated tiny Phi-4-mm model, fed real speech as fast as the server answers (each second of audio
// is sent once every utterance committed so far is transcribed and answered), for N minutes of audio.
// Figures, not a test: it reports per block of audio time what a long session does (failures, rebuilds,
// latency, memory) and never asserts a speed.
import WebSocket from 'ws';
import { float32ToPcm16Bytes } from '../audio/pcm.ts';
import { configSchema, type EarshotConfig } from '../config/schema.ts';
import { createConfiguredEngine } from '../engine/open_engine.ts';
import { ensureFixtureModel } from '../engine/phi4mm/fixture/index.ts';
import { startServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';
import { loadBenchSpeech16k } from './bench_audio.ts';
import { blockRows, lateOverEarly, SoakTracker, type SoakBlockRow } from './soak_tracker.ts';
import { round } from './stats.ts';

export interface SoakOptions {
  minutes: number;
  /** Audio time per reported block (default 10 minutes). */
  blockMinutes?: number;
  audio?: string;
  /** Model directory (default: the generated tiny fixture). */
  modelDir?: string;
  /** Config overrides (default: none, the defaults users get). */
  config?: Record<string, unknown>;
  /** session.update fields the client sends first, besides its input format (default none). */
  session?: Record<string, unknown>;
  /** Receives every event (the soak test asserts per utterance on it); default: a tracker of its own. */
  tracker?: SoakTracker;
  /** How long one batch of audio may wait for its answers before the soak gives up (default 10 min). */
  settleTimeoutMs?: number;
  /** Wall time after which no more audio is sent (the run ends once what was sent is answered); default none. */
  maxWallS?: number;
  progress?: (message: string) => void;
}

export interface SoakResult {
  audio_minutes: number;
  committed: number;
  transcribed: number;
  transcription_failed: number;
  responses_failed: number;
  negative_usage_fields: number;
  latency_late_over_early: number;
  rss_mb_start: number;
  rss_mb_end: number;
  /** RSS at the end of the first block: growth is judged from here (start-up and first rebuilds before). */
  rss_mb_after_first_block: number;
  usage_problems: number;
  errors: number;
  rebuilds: number;
  wall_s: number;
  /** True when maxWallS ended the run before `minutes` of audio: audio_minutes says how much was sent. */
  stopped_early: boolean;
  context_budget_tokens: number;
  caption_max_tokens: number;
  max_output_tokens: number;
  blocks: SoakBlockRow[];
}

// Audio goes out one second at a time, and only once everything committed so far is answered: a turn's
// latency is then its own (commit to transcript, commit to first text delta), not a queue of earlier turns.
const SEND_BLOCK_S = 1;
const CHUNK_MS = 100;

export async function benchSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = (m: string) => opts.progress?.(m);
  const blockSamples = (opts.blockMinutes ?? 10) * 60 * 16_000;
  const config: EarshotConfig = configSchema.parse({
    ...opts.config,
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    agent: { data_dir: ':memory:' },
    limits: { max_event_loop_delay_ms: 0 },
  });
  const speech = await loadBenchSpeech16k(opts.audio);
  const modelDir = opts.modelDir ?? (await ensureFixtureModel('tiny'));
  let rebuilds = 0;
  const engine = createConfiguredEngine(config, {
    modelDir,
    log: {
      info: (_d, m) => void (m === 'engine session context rebuilt' && rebuilds++),
      warn: () => undefined,
      error: () => undefined,
    },
  });
  await engine.ready;
  const rssStart = process.memoryUsage().rss / 2 ** 20;
  const server = await startServer(config, createLogger('silent'), { engine, env: {} });
  const tracker = opts.tracker ?? new SoakTracker();
  const started = performance.now();
  let sent = 0;
  // The block of the audio sent last (an utterance commits after its audio went out).
  const client = connectSoakClient(server.url, tracker, () => Math.floor(Math.max(0, sent - 1) / blockSamples));
  try {
    await client.opened();
    client.ws.send(
      JSON.stringify({
        type: 'session.update',
        session: { audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } }, ...opts.session },
      }),
    );
    const total = Math.round(opts.minutes * 60 * 16_000);
    let lastReport = 0;
    let blocksReported = 0;
    const wallLeft = () => opts.maxWallS === undefined || (performance.now() - started) / 1000 < opts.maxWallS;
    while (sent < total && wallLeft()) {
      const n = Math.min(SEND_BLOCK_S * 16_000, total - sent);
      sendSpeech(client.ws, speech, sent, n);
      sent += n;
      await waitUntilAnswered(client, tracker, opts.settleTimeoutMs ?? 600_000);
      const totals = await engine.totals();
      tracker.samples.push({
        block: Math.floor((sent - 1) / blockSamples),
        rssMb: process.memoryUsage().rss / 2 ** 20,
        kvBytes: totals.kvBytes,
        rebuilds,
      });
      if (sent - lastReport >= 60 * 16_000) {
        lastReport = sent;
        log(
          `${round(sent / 16_000 / 60, 1)} min of audio: ${tracker.utterances.length} committed, ${rebuilds} rebuilds, ${round((performance.now() - started) / 1000, 0)} s wall`,
        );
      }
      // Each block's row as soon as its audio is all answered, so that a run cut short still has its blocks.
      for (; blocksReported < Math.floor(sent / blockSamples); blocksReported++) {
        const row = blockRows(tracker).find((b) => b.block === blocksReported);
        if (row) log(`block ${JSON.stringify(row)}`);
      }
    }
  } finally {
    client.ws.close();
    await server.close();
    await engine.close();
  }
  return soakResult(tracker, {
    sentSamples: sent,
    totalSamples: Math.round(opts.minutes * 60 * 16_000),
    rssStart,
    rebuilds,
    wallS: (performance.now() - started) / 1000,
    config,
    session: opts.session,
  });
}

/** The soak's realtime client: its socket, the session.updated answers so far, and waits on its events. */
interface SoakClient {
  ws: WebSocket;
  /** Resolves once the socket is open; rejects on a socket error before that. */
  opened(): Promise<void>;
  /** How many session.updated events came so far. */
  updated(): number;
  /** Resolves once `done()` holds, checked now and after every event; rejects after `timeoutMs`. */
  waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void>;
}

/** Opens the socket; every text event goes to the tracker, filed under the block `blockOf` says. */
function connectSoakClient(url: string, tracker: SoakTracker, blockOf: () => number): SoakClient {
  const ws = new WebSocket(url);
  const waiters = new Set<() => void>();
  let updated = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const event = JSON.parse(String(data)) as { type: string };
    if (event.type === 'session.updated') updated++;
    tracker.onEvent(event, performance.now(), blockOf());
    for (const w of waiters) w();
  });
  const waitUntil = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const timer = setTimeout(
        () => (waiters.delete(check), reject(new Error(`soak: timed out waiting for ${what}`))),
        timeoutMs,
      );
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return {
    ws,
    opened: () => new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))),
    updated: () => updated,
    waitUntil,
  };
}

/** Sends `n` samples of the looped speech, starting `sent` samples in, in CHUNK_MS chunks of PCM16. */
function sendSpeech(ws: WebSocket, speech: Float32Array, sent: number, n: number): void {
  for (let i = 0; i < n; i += CHUNK_MS * 16) {
    const from = (sent + i) % speech.length;
    ws.send(float32ToPcm16Bytes(speech.subarray(from, Math.min(speech.length, from + Math.min(CHUNK_MS * 16, n - i)))));
  }
}

/** Waits until the server has handled all the audio sent and every utterance committed so far is answered. */
async function waitUntilAnswered(client: SoakClient, tracker: SoakTracker, settleTimeoutMs: number): Promise<void> {
  // The server has handled all the audio once a session.update sent after it is answered; then every
  // utterance committed so far must be transcribed and answered before more audio goes out.
  const marker = client.updated() + 1;
  client.ws.send(JSON.stringify({ type: 'session.update', session: {} }));
  await client.waitUntil(() => client.updated() >= marker, 60_000, 'the session.update round trip');
  await client.waitUntil(
    () => tracker.settled(true),
    settleTimeoutMs,
    'every committed utterance to be transcribed and answered',
  );
}

/** The figures of a finished soak, from its tracker and the run's own counts. */
function soakResult(
  tracker: SoakTracker,
  run: {
    sentSamples: number;
    totalSamples: number;
    rssStart: number;
    rebuilds: number;
    wallS: number;
    config: EarshotConfig;
    session?: Record<string, unknown>;
  },
): SoakResult {
  const us = tracker.utterances;
  const { config } = run;
  return {
    audio_minutes: round(run.sentSamples / 16_000 / 60, 2),
    committed: us.length,
    transcribed: us.filter((u) => u.transcribedAtMs !== undefined).length,
    transcription_failed: us.filter((u) => u.transcriptionFailed !== undefined).length,
    responses_failed: us.filter((u) => u.responseStatus === 'failed').length,
    negative_usage_fields: tracker.negativeUsageFields,
    latency_late_over_early: lateOverEarly(tracker),
    rss_mb_start: round(run.rssStart, 1),
    rss_mb_end: round(tracker.samples.at(-1)?.rssMb ?? Number.NaN, 1),
    rss_mb_after_first_block: round(tracker.samples.filter((s) => s.block === 0).at(-1)?.rssMb ?? Number.NaN, 1),
    usage_problems: tracker.usageProblems.length,
    errors: tracker.errors.length,
    rebuilds: run.rebuilds,
    wall_s: round(run.wallS, 0),
    stopped_early: run.sentSamples < run.totalSamples,
    context_budget_tokens: config.engine.context_budget_tokens,
    caption_max_tokens: config.agent.caption_max_tokens,
    max_output_tokens:
      (run.session?.max_output_tokens as number | undefined) ??
      config.agent.max_output_tokens ??
      config.engine.context_budget_tokens,
    blocks: blockRows(tracker),
  };
}

/** The per-block table of a soak (plain text, one row per block). */
export function soakTable(r: SoakResult, blockMinutes = 10): string {
  const head = [
    'audio min',
    'committed',
    'transcribed',
    'failed',
    'answers',
    'rebuilds',
    'transcript p50/p95 ms',
    'first delta p50/p95 ms',
    'RSS MB',
    'KV MB',
  ];
  const rows = r.blocks.map((b) =>
    [
      `${b.block * blockMinutes}-${(b.block + 1) * blockMinutes}`,
      b.committed,
      b.transcribed,
      b.transcription_failed,
      Object.entries(b.answers)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-',
      b.rebuilds,
      `${b.transcript_ms_p50} / ${b.transcript_ms_p95}`,
      `${b.first_delta_ms_p50} / ${b.first_delta_ms_p95}`,
      b.rss_mb,
      b.kv_mb,
    ].map(String),
  );
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
