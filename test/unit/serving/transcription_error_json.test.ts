// The transcript API's view of a stored caption failure (utterances.transcription_error, JSON text).
import { describe, expect, it } from 'vitest';
import { transcriptionErrorJson } from '../../../src/transport/http_routes/session_routes.ts';

describe('transcriptionErrorJson', () => {
  it('reads the stored {code, message}; null when the caption did not fail', () => {
    expect(transcriptionErrorJson(null)).toBeNull();
    expect(transcriptionErrorJson(JSON.stringify({ code: 'E_ENGINE', message: 'The embedding graph failed' }))).toEqual(
      { code: 'E_ENGINE', message: 'The embedding graph failed' },
    );
    expect(transcriptionErrorJson(JSON.stringify({ code: 'E_ENGINE_WORKER_EXITED' }))).toEqual({
      code: 'E_ENGINE_WORKER_EXITED',
      message: '',
    });
  });

  it('an unreadable row still reads as a failure (E_INTERNAL), never a thrown error', () => {
    for (const raw of ['{"code":', 'null', '42', '{"message":"no code"}', '']) {
      expect(transcriptionErrorJson(raw)).toEqual({
        code: 'E_INTERNAL',
        message: 'The stored transcription error could not be read.',
      });
    }
  });
});
