// Time to first audio of spoken answers (the lead assembles `earshot bench tts` from this): a real server
// (WebSocket, the engine worker on the tiny fixture model biased to write words, espeak-ng as the voice),
// one client asking `answers` questions in a row with output_modalities ["audio"]. ttfa_ms is, per answer,
// the time from the first transcript delta to the first audio delta as the client receives them
// (median). Figures, not a test: nothing here asserts a speed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createAgentServices } from '../../agent/create_services.ts';
import { configSchema } from '../../config/schema.ts';
import { createEngineHost } from '../../engine/engine_host.ts';
import { favouringFixtureModel } from '../../engine/phi4mm/fixture/favour.ts';
import { startServer } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { EspeakSynthesizer } from '../../tts/espeak_synthesizer.ts';
import { percentile, round } from '../stats.ts';

/** The fixture tokenizer's " audio": the biased model writes " audio audio ...", words without clause marks. */
const WORD_TOKEN_ID = 287;

export interface TtfaOptions {
  answers?: number;
  /** Tokens per answer (the biased model never stops by itself). */
  maxTokens?: number;
  /** tts.stream.first_cut_wait_ms (default: the config's 300): the text has no clause marks, so this cut starts the audio. */
  firstCutWaitMs?: number;
  /** Token ids the fixture model favours, and by how much (default: " audio" alone, words without clause marks). */
  favour?: { tokenIds: readonly number[]; boost: readonly number[] };
  progress?: (message: string) => void;
}

export interface TtfaResult {
  /** Median, first transcript delta -> first audio delta, as received by the client. */
  ttfa_ms: number;
  ttfa_ms_p90: number;
  ttfa_ms_max: number;
  answers: number;
  /** Median characters of transcript received before the first audio. */
  chars_before_audio: number;
  /** Median whole answer, response.created -> response.done (the audio complete). */
  answer_ms: number;
  engine: 'espeak';
  first_cut_wait_ms: number;
  first_cut_min_chars: number;
  /** The first answer's text received before its first audio (what the first cut was taken from). */
  text_before_audio: string;
}

export async function measureTtfa(opts: TtfaOptions = {}): Promise<TtfaResult> {
  const answers = opts.answers ?? 20;
  const log = (m: string) => opts.progress?.(m);
  const dataDir = mkdtempSync(join(tmpdir(), 'earshot-bench-ttfa-'));
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    limits: { max_event_loop_delay_ms: 0, max_vad_lag_ms: 0 },
    tts: {
      engine: 'espeak',
      ...(opts.firstCutWaitMs !== undefined ? { stream: { first_cut_wait_ms: opts.firstCutWaitMs } } : {}),
    },
  });
  log('preparing the tiny fixture model');
  const host = createEngineHost({
    modelDir: await favouringFixtureModel(opts.favour?.tokenIds ?? [WORD_TOKEN_ID], opts.favour?.boost ?? 1000),
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
      const samples = await askInARow(
        `ws://127.0.0.1:${server.address.port}/v1/realtime`,
        answers,
        opts.maxTokens ?? 40,
        log,
      );
      const ttfa = samples.map((s) => s.ttfaMs);
      return {
        ttfa_ms: round(percentile(ttfa, 50), 1),
        ttfa_ms_p90: round(percentile(ttfa, 90), 1),
        ttfa_ms_max: round(Math.max(...ttfa), 1),
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
        engine: 'espeak',
        first_cut_wait_ms: config.tts.stream.first_cut_wait_ms,
        first_cut_min_chars: config.tts.stream.first_cut_min_chars,
        text_before_audio: samples[0]?.textBeforeAudio ?? '',
      };
    } finally {
      await server.close();
    }
  } finally {
    await host.close();
    services.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface AnswerSample {
  ttfaMs: number;
  charsBeforeAudio: number;
  answerMs: number;
  textBeforeAudio: string;
}

/** One connection, `answers` spoken answers one after the other. */
async function askInARow(
  url: string,
  answers: number,
  maxTokens: number,
  log: (m: string) => void,
): Promise<AnswerSample[]> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  const samples: AnswerSample[] = [];
  let current: {
    startMs: number;
    textMs: number | null;
    chars: number;
    text: string;
    audioMs: number | null;
    done: () => void;
  } | null = null;
  ws.on('message', (data) => {
    const now = performance.now();
    const event = JSON.parse(data.toString()) as { type: string; delta?: string; error?: { message: string } };
    if (event.type === 'error') throw new Error(`server error: ${event.error?.message}`);
    if (!current) return;
    if (event.type === 'response.output_audio_transcript.delta') {
      current.textMs ??= now;
      if (current.audioMs === null) {
        current.chars += event.delta?.length ?? 0;
        current.text += event.delta ?? '';
      }
    } else if (event.type === 'response.output_audio.delta') current.audioMs ??= now;
    else if (event.type === 'response.done') current.done();
  });
  const send = (event: Record<string, unknown>) => ws.send(JSON.stringify(event));
  send({
    type: 'session.update',
    session: { output_modalities: ['audio'], max_output_tokens: maxTokens, audio: { input: { turn_detection: null } } },
  });
  try {
    for (let i = 0; i < answers; i++) {
      const finished = new Promise<void>((resolve) => {
        current = { startMs: performance.now(), textMs: null, chars: 0, text: '', audioMs: null, done: resolve };
      });
      send({
        type: 'conversation.item.create',
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `Question ${i + 1}: what is the weather like?` }],
        },
      });
      send({ type: 'response.create' });
      await finished;
      const a = current!;
      if (a.textMs !== null && a.audioMs !== null)
        samples.push({
          ttfaMs: a.audioMs - a.textMs,
          charsBeforeAudio: a.chars,
          textBeforeAudio: a.text,
          answerMs: performance.now() - a.startMs,
        });
      log(`answer ${i + 1}/${answers}`);
    }
  } finally {
    ws.close();
  }
  return samples;
}
