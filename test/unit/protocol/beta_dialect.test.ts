import { describe, expect, it } from 'vitest';
import {
  serverEvent,
  toBetaAudioFormat,
  toBetaServerEvent,
  type MessageItem,
  type RealtimeSessionObject,
  type TranscriptionSessionObject,
} from '../../../src/protocol/index.ts';

const input = {
  format: { type: 'audio/pcmu' as const },
  transcription: { model: 'phi-4-multimodal-instruct', language: 'en' },
  noise_reduction: null,
  turn_detection: null,
};
const realtime: RealtimeSessionObject = {
  id: 'sess_r',
  object: 'realtime.session',
  type: 'realtime',
  model: 'phi-4-multimodal-instruct',
  output_modalities: ['text'],
  instructions: 'Be brief.',
  audio: { input },
  tools: [{ type: 'function', name: 'lookup' }],
  tool_choice: 'auto',
  max_output_tokens: 'inf',
  tracing: null,
  prompt: null,
  include: null,
  expires_at: 1,
};
const transcription: TranscriptionSessionObject = {
  id: 'sess_t',
  object: 'realtime.transcription_session',
  type: 'transcription',
  audio: { input: { ...input, format: { type: 'audio/pcm', rate: 24000 } } },
  include: null,
  expires_at: 1,
};
const assistant: MessageItem = {
  id: 'item_1',
  object: 'realtime.item',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Hi.' }],
};

describe('beta dialect', () => {
  it('maps audio formats to beta strings', () => {
    expect(toBetaAudioFormat({ type: 'audio/pcm', rate: 24000 })).toBe('pcm16');
    expect(toBetaAudioFormat({ type: 'audio/pcm', rate: 16000 })).toBe('pcm16');
    expect(toBetaAudioFormat({ type: 'audio/pcmu' })).toBe('g711_ulaw');
    expect(toBetaAudioFormat({ type: 'audio/pcma' })).toBe('g711_alaw');
  });

  it('flattens the realtime session and keeps the event id', () => {
    const event = serverEvent({ type: 'session.updated', session: realtime });
    const beta = toBetaServerEvent(event);
    expect(beta).toEqual({
      type: 'session.updated',
      event_id: event.event_id,
      session: {
        id: 'sess_r',
        object: 'realtime.session',
        model: 'phi-4-multimodal-instruct',
        modalities: ['text'],
        instructions: 'Be brief.',
        input_audio_format: 'g711_ulaw',
        output_audio_format: 'g711_ulaw',
        input_audio_transcription: { model: 'phi-4-multimodal-instruct', language: 'en' },
        input_audio_noise_reduction: null,
        turn_detection: null,
        tools: [{ type: 'function', name: 'lookup' }],
        tool_choice: 'auto',
        max_response_output_tokens: 'inf',
        tracing: null,
        expires_at: 1,
      },
    });
  });

  it('sends transcription_session.updated for transcription sessions', () => {
    const beta = toBetaServerEvent(serverEvent({ type: 'session.updated', session: transcription }));
    expect(beta?.type).toBe('transcription_session.updated');
    expect(beta?.session).toMatchObject({ input_audio_format: 'pcm16', object: 'realtime.transcription_session' });
  });

  it('renames output_text events and output_text content', () => {
    const ref = { response_id: 'r', item_id: 'i', output_index: 0, content_index: 0 };
    expect(toBetaServerEvent(serverEvent({ type: 'response.output_text.delta', ...ref, delta: 'a' }))?.type).toBe(
      'response.text.delta',
    );
    expect(toBetaServerEvent(serverEvent({ type: 'response.output_text.done', ...ref, text: 'a' }))?.type).toBe(
      'response.text.done',
    );
    const done = toBetaServerEvent(
      serverEvent({ type: 'response.output_item.done', response_id: 'r', output_index: 0, item: assistant }),
    );
    expect(done?.item).toMatchObject({ content: [{ type: 'text', text: 'Hi.' }] });
    expect(assistant.content[0].type).toBe('output_text');
  });

  it('turns item.added into item.created and drops item.done', () => {
    const added = toBetaServerEvent(
      serverEvent({ type: 'conversation.item.added', previous_item_id: null, item: assistant }),
    );
    expect(added).toMatchObject({ type: 'conversation.item.created', previous_item_id: null });
    expect(
      toBetaServerEvent(serverEvent({ type: 'conversation.item.done', previous_item_id: null, item: assistant })),
    ).toBeNull();
  });

  it('renames output_modalities in responses and passes other events through', () => {
    const response = {
      id: 'resp_1',
      object: 'realtime.response' as const,
      status: 'completed' as const,
      status_details: null,
      output: [assistant],
      conversation_id: 'conv_1',
      output_modalities: ['text' as const],
      max_output_tokens: 'inf' as const,
      usage: null,
      metadata: null,
    };
    const beta = toBetaServerEvent(serverEvent({ type: 'response.done', response }));
    expect(beta?.response).toMatchObject({ modalities: ['text'], output: [{ content: [{ type: 'text' }] }] });
    expect(beta?.response).not.toHaveProperty('output_modalities');
    const cleared = serverEvent({ type: 'input_audio_buffer.cleared' });
    expect(toBetaServerEvent(cleared)).toEqual(cleared);
  });
});
