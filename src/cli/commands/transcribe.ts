import type { Command } from 'commander';
import { readAudioFileAs16k } from '../../audio/audio_file.ts';
import { createConfiguredEngine } from '../../engine/open_engine.ts';
import { EarshotError } from '../../errors.ts';
import { createLogger } from '../../observability/logger.ts';
import { SubtitleWriter, formatSubtitleTime } from '../../protocol/subtitle_formats.ts';
import { transcribeSamples, type TranscribeTask, type TranscribedUtterance } from '../../transcribe/transcribe_file.ts';
import { loadCliConfig, numberFlag, reportCliError, withConfigOption } from '../cli_config.ts';

const TASKS: TranscribeTask[] = ['asr', 'translate', 'asr+translate', 'summarize'];
const FORMATS = ['text', 'json', 'vtt', 'srt'] as const;
const EMPTY_CUE_TEXT = '[inaudible]';
type Format = (typeof FORMATS)[number];
/** Least time between two progress lines on a terminal. */
const PROGRESS_INTERVAL_MS = 500;

function cueOf(u: TranscribedUtterance) {
  // Every utterance keeps its cue, so cue times always match the VAD's utterances; an empty result is marked.
  return {
    startMs: u.startMs,
    endMs: u.endMs,
    text: (u.translation ? `${u.text}\n${u.translation}` : u.text).trim() || EMPTY_CUE_TEXT,
  };
}

/**
 * Formats utterances as they finish: `cue` returns the text to print for one more utterance, `end` what
 * closes the output. Linear in the transcript's length (each cue is formatted once).
 */
export function transcriptPrinter(format: Format): { cue(u: TranscribedUtterance): string; end(): string } {
  if (format === 'vtt' || format === 'srt') {
    const writer = new SubtitleWriter(format);
    return { cue: (u) => writer.cue(cueOf(u)), end: () => writer.end() };
  }
  if (format === 'text') {
    const time = (ms: number) => formatSubtitleTime(ms, '.');
    return {
      cue: (u) => `[${time(u.startMs)} --> ${time(u.endMs)}] ${cueOf(u).text.replace(/\n/g, ' / ')}\n`,
      end: () => '',
    };
  }
  const all: TranscribedUtterance[] = [];
  return { cue: (u) => (all.push(u), ''), end: () => `${JSON.stringify({ utterances: all })}\n` };
}

/** The whole transcript in one string (tests, and callers that want it at once). */
export function formatTranscript(utterances: TranscribedUtterance[], format: Format): string {
  const printer = transcriptPrinter(format);
  return utterances.map((u) => printer.cue(u)).join('') + printer.end();
}

interface TranscribeFlags {
  model?: string;
  task: string;
  language?: string;
  translateTo?: string;
  lang?: string;
  format: string;
  maxNewTokens?: number;
  config?: string;
  progress?: boolean;
}

function parseFlags(opts: TranscribeFlags): { task: TranscribeTask; format: Format; translateTo?: string } {
  if (!TASKS.includes(opts.task as TranscribeTask))
    throw new EarshotError('E_INVALID_REQUEST', `--task must be one of ${TASKS.join(', ')}`, { param: 'task' });
  if (!FORMATS.includes(opts.format as Format))
    throw new EarshotError('E_INVALID_REQUEST', `--format must be one of ${FORMATS.join(', ')}`, { param: 'format' });
  const translateTo = opts.translateTo ?? opts.lang;
  const task = opts.task === 'asr' && translateTo ? 'translate' : (opts.task as TranscribeTask);
  return { task, format: opts.format as Format, translateTo };
}

function progressReporter(totalMs: number, enabled: boolean): (doneMs: number) => void {
  let lastAt = 0;
  return (doneMs) => {
    const now = performance.now();
    if (!enabled || now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastAt = now;
    const percent = totalMs > 0 ? Math.min(100, Math.round((doneMs / totalMs) * 100)) : 100;
    process.stderr.write(
      `\rtranscribing: ${formatSubtitleTime(doneMs, '.')} of ${formatSubtitleTime(totalMs, '.')} (${percent} %)`,
    );
  };
}

export function registerTranscribeCommand(program: Command): void {
  withConfigOption(
    program
      .command('transcribe')
      .argument(
        '<file>',
        'audio file: WAV (PCM 8/16/24/32-bit, float, G.711), MP3, FLAC, Ogg Vorbis/Opus; others through ffmpeg',
      )
      .description(
        'VAD-segment a recording and run each utterance through Phi-4; cues are printed as each utterance finishes',
      )
      .option('--model <dir>', 'Phi-4-multimodal ONNX model directory')
      .option('--task <task>', `one of ${TASKS.join(', ')}`, 'asr')
      .option('--language <code>', 'the spoken language (e.g. en), a hint for transcription')
      .option(
        '--translate-to <language>',
        'translate into this language (e.g. French); implies --task translate unless asr+translate',
      )
      .option('--lang <language>', 'old name of --translate-to')
      .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'text')
      .option('--no-progress', 'no progress line on stderr (shown only when stderr is a terminal)')
      .option('--max-new-tokens <n>', 'longest output per utterance, in tokens', numberFlag),
  ).action(async (file: string, opts: TranscribeFlags) => {
    const config = loadCliConfig(opts.config, { agent: { caption_max_tokens: opts.maxNewTokens } });
    if (!config) return;
    let engine: ReturnType<typeof createConfiguredEngine> | null = null;
    try {
      const { task, format, translateTo } = parseFlags(opts);
      // The file is read and decoded before the model loads: a typo must not cost a multi-gigabyte load.
      const audio = await readAudioFileAs16k(file);
      const totalMs = (audio.samples16k.length * 1000) / 16_000;
      const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
      engine = createConfiguredEngine(config, { modelDir: opts.model, log });
      await engine.ready;
      const printer = transcriptPrinter(format);
      const progress = progressReporter(totalMs, opts.progress !== false && process.stderr.isTTY === true);
      await transcribeSamples(engine, audio, {
        task,
        language: translateTo,
        spokenLanguage: opts.language,
        maxNewTokens: config.agent.caption_max_tokens,
        vad: config.vad,
        onUtterance: (u) => {
          process.stdout.write(printer.cue(u));
          progress(u.endMs);
        },
      });
      if (opts.progress !== false && process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(printer.end());
    } catch (err) {
      reportCliError(err);
    } finally {
      await engine?.close();
    }
  });
}
