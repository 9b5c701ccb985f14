import type { VadConfig } from '../config/schema.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { EarshotError } from '../errors.ts';
import { segmentOffline } from '../pipeline/offline.ts';
import { languageName } from '../agent/prompts.ts';
import type { Utterance } from '../pipeline/types.ts';

export type TranscribeTask = 'asr' | 'translate' | 'asr+translate' | 'summarize';

export interface TranscribedUtterance {
  startMs: number;
  endMs: number;
  speechStartMs: number;
  speechEndMs: number;
  endReason: Utterance['endReason'];
  text: string;
  /** For asr+translate: the part after <sep>. */
  translation?: string;
}

/**
 * The user-turn instruction after the audio for each task (the prompts Microsoft trained, see docs/model.md);
 * `language` is the translation target, `spokenLanguage` an optional hint naming the spoken language.
 */
export function taskInstruction(task: TranscribeTask, language?: string, spokenLanguage?: string): string {
  switch (task) {
    case 'asr':
      return spokenLanguage
        ? `Transcribe the ${languageName(spokenLanguage)} audio clip into text.`
        : 'Transcribe the audio clip into text.';
    case 'translate':
      return `Translate the audio to ${requireLanguage(task, language)}.`;
    case 'asr+translate':
      return (
        `Transcribe the audio to text, and then translate the audio to ${requireLanguage(task, language)}. ` +
        'Use <sep> as a separator between the original transcript and the translation.'
      );
    case 'summarize':
      return 'Summarize the audio clip.';
  }
}

function requireLanguage(task: TranscribeTask, language?: string): string {
  if (!language)
    throw new EarshotError('E_INVALID_REQUEST', `--task ${task} needs --translate-to (e.g. --translate-to French)`, {
      param: 'translate_to',
    });
  return language;
}

export interface TranscribeOptions {
  task: TranscribeTask;
  /** Translation target. */
  language?: string;
  /** The spoken language, when known (a hint in the ASR prompt). */
  spokenLanguage?: string;
  maxNewTokens: number;
  vad: VadConfig;
  signal?: AbortSignal;
  onUtterance?: (u: TranscribedUtterance) => void;
}

/**
 * VAD-segments a recording with the server's pipeline and runs each utterance through one engine
 * session as a branch (checkpoint, generate, rewind), as the live caption path does. Summaries run
 * over the whole recording instead (up to the encoder's chunking).
 */
export async function transcribeSamples(
  engine: SpeechEngine,
  audio: { samples16k: Float32Array; samples8k?: Float32Array },
  opts: TranscribeOptions,
): Promise<TranscribedUtterance[]> {
  const utterances: { u: Utterance | null; startMs: number; endMs: number }[] =
    opts.task === 'summarize'
      ? [{ u: null, startMs: 0, endMs: (audio.samples16k.length * 1000) / 16000 }]
      : (await segmentOffline(audio.samples16k, opts.vad, audio.samples8k)).map((u) => ({
          u,
          startMs: (u.startSample * 1000) / 16000,
          endMs: (u.endSample * 1000) / 16000,
        }));
  const session = await engine.createSession();
  const results: TranscribedUtterance[] = [];
  try {
    const instruction = taskInstruction(opts.task, opts.language, opts.spokenLanguage);
    for (const { u, startMs, endMs } of utterances) {
      const handle = u?.pcm8k
        ? await engine.encodeAudio(u.pcm8k, 8000)
        : await engine.encodeAudio(u ? u.pcm16k : audio.samples16k, 16000);
      const checkpoint = session.checkpoint();
      let text = '';
      try {
        await session.appendUser([
          { type: 'audio', audio: handle },
          { type: 'text', text: instruction },
        ]);
        for await (const event of session.generate({ maxNewTokens: opts.maxNewTokens }, opts.signal)) {
          if (event.type === 'done') text = event.text;
        }
      } finally {
        await session.rewind(checkpoint);
        engine.releaseAudio(handle);
      }
      const [transcript, translation] = opts.task === 'asr+translate' ? splitSep(text) : [text.trim(), undefined];
      const result: TranscribedUtterance = {
        startMs,
        endMs,
        speechStartMs: u?.speechStartMs ?? startMs,
        speechEndMs: u?.speechEndMs ?? endMs,
        endReason: u?.endReason ?? 'end_of_stream',
        text: transcript,
        ...(translation !== undefined ? { translation } : {}),
      };
      results.push(result);
      opts.onUtterance?.(result);
    }
  } finally {
    await session.dispose();
  }
  return results;
}

function splitSep(text: string): [string, string | undefined] {
  const at = text.indexOf('<sep>');
  return at < 0 ? [text.trim(), undefined] : [text.slice(0, at).trim(), text.slice(at + 5).trim()];
}
