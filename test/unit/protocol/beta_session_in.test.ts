import { describe, expect, it } from 'vitest';
import { fromBetaAudioFormat, fromBetaSessionConfig } from '../../../src/protocol/beta_dialect.ts';
import { checkSessionSupport, dialectOf } from '../../../src/session/session_support.ts';
import { isEarshotError } from '../../../src/errors.ts';

describe('beta session fields in', () => {
  it('maps flat fields to their GA homes', () => {
    expect(
      fromBetaSessionConfig({
        modalities: ['text'],
        instructions: 'x',
        input_audio_format: 'g711_alaw',
        output_audio_format: 'pcm16',
        turn_detection: null,
        input_audio_transcription: { model: 'whisper-1', language: 'fr' },
        input_audio_noise_reduction: null,
        max_response_output_tokens: 'inf',
        voice: 'alloy',
      }),
    ).toEqual({
      instructions: 'x',
      output_modalities: ['text'],
      max_output_tokens: 'inf',
      audio: {
        input: {
          format: { type: 'audio/pcma' },
          turn_detection: null,
          transcription: { model: 'whisper-1', language: 'fr' },
          noise_reduction: null,
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy' },
      },
    });
    expect(fromBetaAudioFormat('pcm16')).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(fromBetaAudioFormat('g711_ulaw')).toEqual({ type: 'audio/pcmu' });
  });

  it('keeps the GA spelling when both are given, and leaves an update without flat fields alone', () => {
    expect(fromBetaSessionConfig({ modalities: ['audio'], output_modalities: ['text'] })).toEqual({
      output_modalities: ['text'],
    });
    expect(
      fromBetaSessionConfig({ input_audio_format: 'pcm16', audio: { input: { format: { type: 'audio/pcmu' } } } }).audio
        ?.input?.format,
    ).toEqual({ type: 'audio/pcmu' });
    expect(fromBetaSessionConfig({ instructions: 'y' })).toEqual({ instructions: 'y' });
  });
});

describe('dialectOf', () => {
  it('is beta for the subprotocol or the OpenAI-Beta header, GA otherwise', () => {
    expect(dialectOf({ headers: {}, protocols: ['realtime', 'openai-beta.realtime-v1'] })).toBe('beta');
    expect(dialectOf({ headers: { 'openai-beta': 'realtime=v1' }, protocols: [] })).toBe('beta');
    expect(dialectOf({ headers: { 'openai-beta': 'assistants=v2, Realtime=V1' }, protocols: [] })).toBe('beta');
    expect(dialectOf({ headers: { 'openai-beta': 'assistants=v2' }, protocols: ['realtime'] })).toBe('ga');
    expect(dialectOf({ headers: {}, protocols: [] })).toBe('ga');
  });
});

describe('checkSessionSupport', () => {
  const paramOf = (fn: () => void): string | undefined => {
    try {
      fn();
    } catch (err) {
      if (isEarshotError(err)) return err.param;
      throw err;
    }
    return undefined;
  };

  it('refuses flat fields on a GA connection, pointing at their GA home', () => {
    expect(
      paramOf(() => checkSessionSupport({ turn_detection: null }, { dialect: 'ga', rawFields: ['turn_detection'] })),
    ).toBe('session.turn_detection');
    expect(
      paramOf(() =>
        checkSessionSupport(
          { audio: { input: { turn_detection: null } } },
          { dialect: 'beta', rawFields: ['turn_detection'] },
        ),
      ),
    ).toBeUndefined();
  });

  it('accepts what a text-only agents-realtime session sends', () => {
    const update = {
      type: 'realtime' as const,
      output_modalities: ['text' as const],
      tracing: 'auto' as const,
      audio: {
        input: { noise_reduction: null, turn_detection: { type: 'semantic_vad' as const } },
        output: { format: { type: 'audio/pcm' as const, rate: 24000 }, speed: 1 },
      },
      tool_choice: 'auto' as const,
      tools: [{ type: 'function' as const, name: 'f' }],
    };
    expect(
      paramOf(() => checkSessionSupport(update, { dialect: 'ga', rawFields: Object.keys(update) })),
    ).toBeUndefined();
  });
});
