// Time to first audio of spoken answers (part of `earshot bench tts`): a real server (WebSocket, the engine
// worker on the tiny fixture model biased to write words, espeak-ng as the voice), one client asking
// `answers` questions in a row with output_modalities ["audio"]. ttfa_ms is, per answer, the time from the
// first transcript delta to the first audio delta as the client receives them (median). Figures, not a
// test: nothing here asserts a speed.
//
// Two kinds of text. `clause_marks` (the headline, what real answers look like): the model samples, seeded
// and at temperature 1, among " audio", " the", "," and ".", so a clause mark comes every few words and the
// first piece is cut at it. `no_clause_marks`: greedy " audio audio ...", whose first piece is only cut by
// tts.stream.first_cut_wait_ms, so its ttfa is bounded below by that wait.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AnswerSample } from './ttfa_client.ts';
import { createAgentServices } from '../../agent/create_services.ts';
import { OVERLOAD_GUARDS_OFF, configSchema } from '../../config/schema.ts';
import { createEngineHost } from '../../engine/engine_host.ts';
import { favouringFixtureModel } from '../../engine/phi4mm/fixture/favour.ts';
import { startServer } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { EspeakSynthesizer } from '../../tts/espeak_synthesizer.ts';
import { percentile, round } from '../stats.ts';

/** Fixture tokenizer ids: " audio", " the", ",", ".". */
const AUDIO = 287;
const THE = 260;
const COMMA = 44;
const PERIOD = 46;

/**
 * Logit boosts for the clause-marks text. The random-weight logits differ by ~0.01-0.2, so these set the
 * odds at temperature 1: a mark is e^-1.4 as likely as a word, i.e. about one token in five is a mark.
 */
const CLAUSE_MARKS_FAVOUR = { tokenIds: [AUDIO, THE, COMMA, PERIOD], boost: [1000, 1000, 998.6, 998.6] };
const NO_CLAUSE_MARKS_FAVOUR = { tokenIds: [AUDIO], boost: [1000] };
const SAMPLING_SEED = 23;
const BENCH_AGENT = 'bench-speaker';

export type TtfaText = 'clause_marks' | 'no_clause_marks';

export interface TtfaOptions {
  answers?: number;
  /**
   * Tokens per answer (the biased model never stops by itself). Default 40 with clause marks; 120 without,
   * so the answer is still being written when the 300 ms wait cuts (at 40 tokens a quiet machine finishes
   * the whole answer within the wait, and its end, not the wait, would cut).
   */
  maxTokens?: number;
  /** What the model writes (default clause_marks). */
  text?: TtfaText;
  /** tts.stream.first_cut_wait_ms (default: the config's 300). */
  firstCutWaitMs?: number;
  /** tts.espeak.warm_processes (default: the config's); 0 starts a process per sentence. */
  warmProcesses?: number;
  progress?: (message: string) => void;
}

export interface TtfaResult {
  /** Median, first transcript delta -> first audio delta, as received by the client. */
  ttfa_ms: number;
  ttfa_ms_p90: number;
  ttfa_ms_max: number;
  /** The session's first answer alone (one sample: whether its first sentence found a warm process). */
  ttfa_first_answer_ms: number | null;
  answers: number;
  text: TtfaText;
  /** Median characters of transcript received before the first audio. */
  chars_before_audio: number;
  /** Median whole answer, response.created -> response.done (the audio complete). */
  answer_ms: number;
  engine: 'espeak';
  espeak_warm_processes: number;
  /** espeak-ng processes started during the run (warm ones included). */
  espeak_processes_started: number;
  first_cut_wait_ms: number;
  first_cut_min_chars: number;
  max_tokens: number;
  /** The first answer's text received before its first audio (what the first cut was taken from). */
  text_before_audio: string;
  /** The first answer's whole text (seeded: the same on every run). */
  answer_text: string;
}

/** An agent module that samples (temperature 1, seeded): greedy decoding of the biased model repeats one token. */
function writeSamplingAgent(dir: string): string {
  const file = join(dir, 'bench_agent.mjs');
  writeFileSync(
    file,
    `export default {
  name: '${BENCH_AGENT}',
  description: 'Speaks sampled words with clause marks for the time-to-first-audio benchmark.',
  instructions: 'Answer in a few short clauses.',
  generation: { temperature: 1, seed: ${SAMPLING_SEED} },
};
`,
  );
  return file;
}

export async function measureTtfa(opts: TtfaOptions = {}): Promise<TtfaResult> {
  const answers = opts.answers ?? 20;
  const log = (m: string) => opts.progress?.(m);
  const text = opts.text ?? 'clause_marks';
  const maxTokens = opts.maxTokens ?? (text === 'clause_marks' ? 40 : 120);
  const dataDir = mkdtempSync(join(tmpdir(), 'earshot-bench-ttfa-'));
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    limits: OVERLOAD_GUARDS_OFF,
    agent: text === 'clause_marks' ? { modules: [writeSamplingAgent(dataDir)], default: BENCH_AGENT } : {},
    tts: {
      engine: 'espeak',
      ...(opts.firstCutWaitMs !== undefined ? { stream: { first_cut_wait_ms: opts.firstCutWaitMs } } : {}),
      ...(opts.warmProcesses !== undefined ? { espeak: { warm_processes: opts.warmProcesses } } : {}),
    },
  });
  const favour = text === 'clause_marks' ? CLAUSE_MARKS_FAVOUR : NO_CLAUSE_MARKS_FAVOUR;
  log('preparing the tiny fixture model');
  const host = createEngineHost({
    modelDir: await favouringFixtureModel(favour.tokenIds, favour.boost),
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const services = createAgentServices(config.agent, { dataDir });
  try {
    await host.ready;
    const synthesizer = new EspeakSynthesizer({ ...config.tts.espeak, maxInputChars: config.tts.max_input_chars });
    const server = await startServer(config, createLogger('silent'), {
      engine: host,
      services,
      env: {},
      voiceEngine: { synthesizer, status: { requested: 'espeak', engine: 'espeak' } },
    });
    try {
      log(`time to first audio, ${text}, ${config.tts.espeak.warm_processes} warm espeak-ng processes`);
      const samples = await askFromWorker(`ws://127.0.0.1:${server.address.port}/v1/realtime`, answers, maxTokens, log);
      const ttfa = samples.map((s) => s.ttfaMs);
      return {
        ttfa_ms: round(percentile(ttfa, 50), 1),
        ttfa_ms_p90: round(percentile(ttfa, 90), 1),
        ttfa_ms_max: round(Math.max(...ttfa), 1),
        ttfa_first_answer_ms: samples[0] ? round(samples[0].ttfaMs, 1) : null,
        answers: samples.length,
        chars_before_audio: percentile(
          samples.map((s) => s.charsBeforeAudio),
          50,
        ),
        answer_ms: round(
          percentile(
            samples.map((s) => s.answerMs),
            50,
          ),
          1,
        ),
        text,
        engine: 'espeak',
        espeak_warm_processes: config.tts.espeak.warm_processes,
        espeak_processes_started: synthesizer.processesStarted,
        first_cut_wait_ms: config.tts.stream.first_cut_wait_ms,
        first_cut_min_chars: config.tts.stream.first_cut_min_chars,
        max_tokens: maxTokens,
        text_before_audio: samples[0]?.textBeforeAudio ?? '',
        answer_text: samples[0]?.answerText ?? '',
      };
    } finally {
      await server.close();
      await synthesizer.close(); // the server closes only a voice engine it opened itself
    }
  } finally {
    await host.close();
    services.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The client runs on a worker thread, as a real client runs in its own process: on the server's thread it
 * would read each audio delta only after whatever synchronous work the server does next (e.g. starting a
 * warm espeak-ng process, a fork that blocks for tens of ms), which a real client never waits for.
 */
function askFromWorker(
  url: string,
  answers: number,
  maxTokens: number,
  log: (m: string) => void,
): Promise<AnswerSample[]> {
  const worker = new Worker(new URL('./ttfa_client_bootstrap.mjs', import.meta.url), {
    workerData: { url, answers, maxTokens },
  });
  return new Promise<AnswerSample[]>((resolve, reject) => {
    worker.on('message', (m: { progress?: string; samples?: AnswerSample[]; error?: string }) => {
      if (m.progress) log(m.progress);
      else if (m.samples) resolve(m.samples);
      else if (m.error) reject(new Error(m.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the benchmark client stopped (exit ${code})`)));
  }).finally(() => worker.terminate());
}
