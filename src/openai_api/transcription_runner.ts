// One transcription or translation request: the upload is VAD-segmented with the server's pipeline
// (utterances of at most vad.max_utterance_ms, split at pauses) and each utterance runs in order through
// one engine session as a branch (checkpoint, generate, rewind), exactly like a live caption.
import { captionTask } from '../agent/prompts.ts';
import type { VadConfig } from '../config/schema.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { segmentOffline } from '../pipeline/offline.ts';
import type { VadStream } from '../vad/vad_batcher.ts';

export type AudioTask = 'transcribe' | 'translate';

export interface TranscriptSegment {
  id: number;
  startMs: number;
  endMs: number;
  text: string;
  tokenIds: number[];
}

export interface TranscriptionResult {
  text: string;
  segments: TranscriptSegment[];
  durationMs: number;
  usage: { inputTokens: number; audioTokens: number; outputTokens: number };
}

export interface TranscriptionRequest {
  task: AudioTask;
  audio: { samples16k: Float32Array; samples8k?: Float32Array };
  language?: string;
  prompt?: string;
  maxTokensPerSegment: number;
  vad: VadConfig;
  openVadStream?: () => VadStream;
  signal: AbortSignal;
  /** Text as it is generated, already joined (a space between segments): the stream's deltas. */
  onDelta?: (delta: string) => void;
}

/** The user-turn text after the audio: Whisper's `prompt` is passed as context, translations go to English. */
export function audioTaskPrompt(task: AudioTask, language?: string, prompt?: string): string {
  if (task === 'translate') return captionTask({ translate_to: 'en' }).prompt;
  return captionTask({ language, prompt }).prompt;
}

export async function runTranscription(engine: SpeechEngine, req: TranscriptionRequest): Promise<TranscriptionResult> {
  const { samples16k, samples8k } = req.audio;
  const utterances = await segmentOffline(samples16k, req.vad, samples8k, req.openVadStream);
  const instruction = audioTaskPrompt(req.task, req.language, req.prompt);
  const session = await engine.createSession();
  const segments: TranscriptSegment[] = [];
  const usage = { inputTokens: 0, audioTokens: 0, outputTokens: 0 };
  let emitted = '';
  try {
    for (const u of utterances) {
      req.signal.throwIfAborted();
      const handle = u.pcm8k ? await engine.encodeAudio(u.pcm8k, 8000) : await engine.encodeAudio(u.pcm16k, 16000);
      const checkpoint = session.checkpoint();
      let text = '';
      let pendingSpace = '';
      const tokenIds: number[] = [];
      try {
        await session.appendUser([
          { type: 'audio', audio: handle },
          { type: 'text', text: instruction },
        ]);
        usage.inputTokens += session.length - checkpoint.length;
        usage.audioTokens += handle.audioTokens;
        for await (const event of session.generate({ maxNewTokens: req.maxTokensPerSegment }, req.signal)) {
          if (event.type === 'done') {
            usage.outputTokens += event.usage.completionTokens;
            break;
          }
          tokenIds.push(...event.tokenIds);
          // A segment's text is trimmed and segments are joined by one space; whitespace is held back
          // until text follows it, so the deltas always add up to the final text exactly.
          const delta = pendingSpace + (text === '' ? event.text.trimStart() : event.text);
          const body = delta.trimEnd();
          pendingSpace = delta.slice(body.length);
          if (body === '') continue;
          const joined = text === '' && emitted !== '' ? ` ${body}` : body;
          text += body;
          emitted += joined;
          req.onDelta?.(joined);
        }
      } finally {
        await session.rewind(checkpoint);
        engine.releaseAudio(handle);
      }
      req.signal.throwIfAborted();
      segments.push({
        id: segments.length,
        startMs: (u.startSample * 1000) / 16000,
        endMs: (u.endSample * 1000) / 16000,
        text: text.trim(),
        tokenIds,
      });
    }
  } finally {
    await session.dispose();
  }
  return {
    text: segments
      .map((s) => s.text)
      .filter((t) => t !== '')
      .join(' '),
    segments,
    durationMs: (samples16k.length * 1000) / 16000,
    usage,
  };
}
