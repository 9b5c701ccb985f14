import type { Command } from 'commander';
import { createConfiguredEngine } from '../../engine/open_engine.ts';
import { createLogger } from '../../observability/logger.ts';
import { toSrt, toWebVtt } from '../../protocol/subtitle_formats.ts';
import { transcribeSamples, type TranscribeTask, type TranscribedUtterance } from '../../transcribe/transcribe_file.ts';
import { loadCliConfig, numberFlag, reportCliError, withConfigOption } from '../cli_config.ts';
import { readWavFileAs16k } from '../../audio/wav_input.ts';

const TASKS: TranscribeTask[] = ['asr', 'translate', 'asr+translate', 'summarize'];
const FORMATS = ['text', 'json', 'vtt', 'srt'] as const;
const EMPTY_CUE_TEXT = '[inaudible]';
type Format = (typeof FORMATS)[number];

function clock(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const s = (t % 60_000) / 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

export function formatTranscript(utterances: TranscribedUtterance[], format: Format): string {
  // Every utterance keeps its cue, so cue times always match the VAD's utterances; an empty result is marked.
  const cues = utterances.map((u) => ({
    startMs: u.startMs,
    endMs: u.endMs,
    text: (u.translation ? `${u.text}\n${u.translation}` : u.text).trim() || EMPTY_CUE_TEXT,
  }));
  switch (format) {
    case 'vtt':
      return toWebVtt(cues);
    case 'srt':
      return toSrt(cues);
    case 'json':
      return `${JSON.stringify({ utterances })}\n`;
    case 'text':
      return utterances.map((u) => `[${clock(u.startMs)} --> ${clock(u.endMs)}] ${cues[utterances.indexOf(u)].text}\n`).join('');
  }
}

export function registerTranscribeCommand(program: Command): void {
  withConfigOption(
    program
      .command('transcribe')
      .argument('<file>', 'WAV file (PCM, float or G.711 mu-law/A-law; 8 kHz telephony audio uses the model\'s 8 kHz path)')
      .description('VAD-segment a recording and run each utterance through Phi-4 (captions with utterance times)')
      .option('--model <dir>', 'Phi-4-multimodal ONNX model directory')
      .option('--task <task>', `one of ${TASKS.join(', ')}`, 'asr')
      .option('--lang <language>', 'target language for translate tasks (e.g. French)')
      .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'text')
      .option('--max-new-tokens <n>', 'longest output per utterance, in tokens', numberFlag),
  ).action(async (file: string, opts: { model?: string; task: string; lang?: string; format: string; maxNewTokens?: number; config?: string }) => {
    const config = loadCliConfig(opts.config, { agent: { caption_max_tokens: opts.maxNewTokens } });
    if (!config) return;
    if (!TASKS.includes(opts.task as TranscribeTask) || !FORMATS.includes(opts.format as Format)) {
      process.stderr.write(`earshot: --task must be one of ${TASKS.join(', ')} and --format one of ${FORMATS.join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
    const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
    const engine = createConfiguredEngine(config, { modelDir: opts.model, log });
    try {
      await engine.ready;
      const audio = await readWavFileAs16k(file);
      const utterances = await transcribeSamples(engine, audio, {
        task: opts.task as TranscribeTask,
        language: opts.lang,
        maxNewTokens: config.agent.caption_max_tokens,
        vad: config.vad,
      });
      process.stdout.write(formatTranscript(utterances, opts.format as Format));
    } catch (err) {
      reportCliError(err);
    } finally {
      await engine.close();
    }
  });
}
