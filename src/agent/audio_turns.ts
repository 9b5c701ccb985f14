// Turns made of committed audio. An utterance: encode the audio once, caption it as a rewound branch,
// then in a realtime session append the user's audio turn and answer it. An idle timeout: the silence
// with a follow-up prompt as one user turn, answered the same way.
import { EarshotError, isEarshotError } from '../errors.ts';
import type { Utterance } from '../pipeline/types.ts';
import { runCaption } from './caption.ts';
import { idlePrompt } from './prompts.ts';
import type { IdleAudio, TurnHost } from './runtime_types.ts';

export async function runUtteranceTurn(
  host: TurnHost,
  utterance: Utterance,
  respond: boolean,
  signal: AbortSignal,
): Promise<void> {
  const { engine, state } = host.opts;
  if (!engine) {
    if (state.transcription) {
      const cause = host.opts.engineUnavailable ?? new EarshotError('E_MODEL_MISSING');
      host.opts.emit({
        type: 'conversation.item.input_audio_transcription.failed',
        item_id: utterance.itemId,
        content_index: 0,
        error: { type: 'server_error', code: cause.code, message: cause.message },
      });
    }
    return;
  }
  const audio = utterance.pcm8k
    ? await engine.encodeAudio(utterance.pcm8k, 8000)
    : await engine.encodeAudio(utterance.pcm16k, 16000);
  try {
    const context = host.context(engine);
    await context.refresh();
    const lengthBefore = context.length;
    const rebuildsBefore = context.rebuilds;
    let transcript: string | null = null;
    if (state.transcription) {
      try {
        transcript = await runCaption({
          context,
          audio,
          itemId: utterance.itemId,
          settings: state.transcription,
          maxTokens: host.opts.settings.captionMaxTokens,
          signal,
          emit: host.opts.emit,
        });
      } catch (err) {
        // A caption that died with the worker: the user's turn is appended to a new session, not the lost one.
        context.noteEngineFailure(err);
        if (signal.aborted) return;
        host.opts.log.warn({ err }, 'caption failed');
        host.opts.emit({
          type: 'conversation.item.input_audio_transcription.failed',
          item_id: utterance.itemId,
          content_index: 0,
          error: {
            type: 'server_error',
            code: isEarshotError(err) ? err.code : 'E_ENGINE',
            message: err instanceof Error ? err.message : String(err),
          },
        });
      }
    }
    if (signal.aborted || state.type !== 'realtime') return;
    await context.appendUserAudio(audio, transcript, [utterance.itemId]);
    host.turnTaken();
    if (respond && !host.isDisposed())
      await host.respond(context, { cachedTokens: lengthBefore, rebuildsBefore }, signal);
  } finally {
    engine.releaseAudio(audio);
  }
}

/**
 * An idle timeout: the silence (not captioned: there is nothing to transcribe) with a prompt to follow
 * up, as one user turn; answered like an utterance.
 */
export async function runIdleTurn(
  host: TurnHost,
  idle: IdleAudio,
  respond: boolean,
  signal: AbortSignal,
): Promise<void> {
  const engine = host.opts.engine;
  if (!engine || host.opts.state.type !== 'realtime') return;
  const audio = await engine.encodeAudio(idle.pcm16k, 16000);
  try {
    const context = host.context(engine);
    await context.refresh();
    const lengthBefore = context.length;
    const rebuildsBefore = context.rebuilds;
    if (signal.aborted) return;
    await context.appendUserMixed(
      [
        { type: 'audio', audio },
        { type: 'text', text: idlePrompt(idle.silenceMs) },
      ],
      null,
      [idle.itemId],
    );
    host.turnTaken();
    if (respond && !host.isDisposed())
      await host.respond(context, { cachedTokens: lengthBefore, rebuildsBefore }, signal);
  } finally {
    engine.releaseAudio(audio);
  }
}
