import { describe, expect, it } from 'vitest';
import { SessionModel } from '../../../client/core/session_model.ts';
import type { SessionObject } from '../../../src/protocol/server_session.ts';
import { completed, delta, ev, started, stopped } from './client_events.ts';

/** A transcription session as the server announces it, with or without transcription configured. */
function sessionCreated(transcription: { model: string } | null) {
  const session = {
    id: 'sess_1',
    object: 'realtime.transcription_session',
    type: 'transcription',
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 16000 },
        transcription,
        noise_reduction: null,
        turn_detection: null,
      },
    },
    include: null,
    expires_at: 0,
  } as unknown as SessionObject;
  return ev({ type: 'session.created', session });
}

describe('SessionModel.busy (what earshot stream waits for before its summary)', () => {
  it('counts an utterance whose transcript has not begun when the session transcribes', () => {
    const model = new SessionModel(() => 0);
    model.apply(sessionCreated({ model: 'phi-4-multimodal' }));
    model.apply(started('a', 100));
    model.apply(stopped('a', 900));
    expect(model.busy).toBe(true);
    model.apply(delta('a', 'hel'));
    expect(model.busy).toBe(true);
    model.apply(completed('a', 'hello'));
    expect(model.busy).toBe(false);
  });

  it('a transcription failure settles the utterance too', () => {
    const model = new SessionModel(() => 0);
    model.apply(sessionCreated({ model: 'phi-4-multimodal' }));
    model.apply(started('a', 100));
    model.apply(stopped('a', 900));
    model.apply(
      ev({
        type: 'conversation.item.input_audio_transcription.failed',
        item_id: 'a',
        content_index: 0,
        error: { type: 'server_error', code: 'E_MODEL_MISSING', message: 'no model' },
      }),
    );
    expect(model.busy).toBe(false);
  });

  it('without transcription only a caption that is streaming counts (no transcript is owed)', () => {
    const model = new SessionModel(() => 0);
    model.apply(sessionCreated(null));
    model.apply(started('a', 100));
    model.apply(stopped('a', 900));
    expect(model.busy).toBe(false);
    model.apply(delta('a', 'late'));
    expect(model.busy).toBe(true);
  });
});
