import { describe, expect, it } from 'vitest';
import { CLIENT_EVENT_TYPES, clientEventSchema } from '../../../src/protocol/index.ts';
import { VALID_CLIENT_EVENTS as valid } from './fixtures.ts';
import { decodeFail, decodeOk } from './helpers.ts';

// For every client event type: payloads that must decode and payloads that must fail, with the `param`
// (dotted path of the first issue) the failure must point at.
const invalid: Record<string, Array<[unknown, string]>> = {
  'session.update': [
    [{ type: 'session.update' }, 'session'],
    [{ type: 'session.update', session: 'x' }, 'session'],
    [{ type: 'session.update', session: { type: 'voice' } }, 'session.type'],
    [{ type: 'session.update', session: { instructions: 42 } }, 'session.instructions'],
    [{ type: 'session.update', session: { max_output_tokens: 0 } }, 'session.max_output_tokens'],
    [{ type: 'session.update', session: { max_output_tokens: 'lots' } }, 'session.max_output_tokens'],
    [{ type: 'session.update', session: { output_modalities: ['video'] } }, 'session.output_modalities[0]'],
    [
      { type: 'session.update', session: { audio: { input: { format: { type: 'audio/opus' } } } } },
      'session.audio.input.format.type',
    ],
    [
      { type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcm', rate: -1 } } } } },
      'session.audio.input.format.rate',
    ],
    [
      {
        type: 'session.update',
        session: { audio: { input: { turn_detection: { type: 'server_vad', threshold: 2 } } } },
      },
      'session.audio.input.turn_detection.threshold',
    ],
    [
      {
        type: 'session.update',
        session: { audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'very' } } } },
      },
      'session.audio.input.turn_detection.eagerness',
    ],
    [{ type: 'session.update', session: { tools: [{ type: 'function' }] } }, 'session.tools[0].name'],
    [
      { type: 'session.update', session: { tools: [{ name: 'x', parameters: 'nope' }] } },
      'session.tools[0].parameters',
    ],
    [{ type: 'session.update', session: { tool_choice: 'sometimes' } }, 'session.tool_choice'],
    [{ type: 'session.update', session: { input_audio_format: 'mp3' } }, 'session.input_audio_format'],
    [{ type: 'session.update', event_id: 7, session: {} }, 'event_id'],
  ],
  'transcription_session.update': [[{ type: 'transcription_session.update', session: null }, 'session']],
  'input_audio_buffer.append': [
    [{ type: 'input_audio_buffer.append' }, 'audio'],
    [{ type: 'input_audio_buffer.append', audio: 123 }, 'audio'],
  ],
  'input_audio_buffer.commit': [[{ type: 'input_audio_buffer.commit', event_id: null }, 'event_id']],
  'input_audio_buffer.clear': [[{ type: 'input_audio_buffer.clear', event_id: 'x'.repeat(513) }, 'event_id']],
  'output_audio_buffer.clear': [[{ type: 'output_audio_buffer.clear', event_id: {} }, 'event_id']],
  'conversation.item.create': [
    [{ type: 'conversation.item.create' }, 'item'],
    [{ type: 'conversation.item.create', item: { type: 'message', role: 'robot', content: [] } }, 'item.role'],
    [{ type: 'conversation.item.create', item: { type: 'message', role: 'user' } }, 'item.content'],
    [
      { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text' }] } },
      'item.content[0].text',
    ],
    [
      { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_video' }] } },
      'item.content[0].type',
    ],
    [{ type: 'conversation.item.create', item: { type: 'function_call_output', output: 'x' } }, 'item.call_id'],
    [{ type: 'conversation.item.create', item: { type: 'telepathy' } }, 'item.type'],
    [
      {
        type: 'conversation.item.create',
        previous_item_id: 3,
        item: { type: 'function_call_output', call_id: 'c', output: '' },
      },
      'previous_item_id',
    ],
  ],
  'conversation.item.truncate': [
    [{ type: 'conversation.item.truncate', item_id: 'i', content_index: -1, audio_end_ms: 0 }, 'content_index'],
    [{ type: 'conversation.item.truncate', item_id: 'i', content_index: 0.5, audio_end_ms: 0 }, 'content_index'],
    [{ type: 'conversation.item.truncate', item_id: 'i', content_index: 0, audio_end_ms: -5 }, 'audio_end_ms'],
    [{ type: 'conversation.item.truncate', content_index: 0, audio_end_ms: 0 }, 'item_id'],
  ],
  'conversation.item.delete': [[{ type: 'conversation.item.delete' }, 'item_id']],
  'conversation.item.retrieve': [[{ type: 'conversation.item.retrieve', item_id: ['a'] }, 'item_id']],
  'response.create': [
    [{ type: 'response.create', response: 'now' }, 'response'],
    [{ type: 'response.create', response: { metadata: { n: 1 } } }, 'response.metadata.n'],
    [{ type: 'response.create', response: { input: [{ type: 'item_reference' }] } }, 'response.input[0].id'],
    [{ type: 'response.create', response: { conversation: false } }, 'response.conversation'],
  ],
  'response.cancel': [[{ type: 'response.cancel', response_id: 5 }, 'response_id']],
};

describe('client event schemas', () => {
  it('covers every client event type in both tables', () => {
    expect(Object.keys(valid).sort()).toEqual([...CLIENT_EVENT_TYPES].sort());
    expect(Object.keys(invalid).sort()).toEqual([...CLIENT_EVENT_TYPES].sort());
  });

  for (const [type, events] of Object.entries(valid)) {
    it(`accepts valid ${type}`, () => {
      for (const event of events) {
        const decoded = decodeOk(event);
        expect(decoded.type).toBe(type);
        expect(clientEventSchema.safeParse(event).success).toBe(true);
      }
    });
  }

  for (const [type, cases] of Object.entries(invalid)) {
    it(`rejects invalid ${type} with the offending path`, () => {
      for (const [event, param] of cases) {
        const failure = decodeFail(event);
        expect(failure.code, JSON.stringify(event)).toBe('E_INVALID_EVENT');
        expect(failure.param, JSON.stringify(event)).toBe(param);
        expect(failure.message).toContain(param);
        expect(clientEventSchema.safeParse(event).success).toBe(false);
      }
    });
  }

  it('keeps unknown fields at every level (clients send many)', () => {
    const decoded = decodeOk({
      type: 'session.update',
      future_top_level: 1,
      session: {
        type: 'realtime',
        brand_new_option: { a: 1 },
        audio: { input: { format: { type: 'audio/pcm', rate: 24000, channels: 1 } } },
      },
    });
    expect(decoded).toMatchObject({
      future_top_level: 1,
      session: { brand_new_option: { a: 1 }, audio: { input: { format: { channels: 1 } } } },
    });
  });

  it('treats a tool without type as a function tool', () => {
    const decoded = decodeOk({ type: 'session.update', session: { tools: [{ name: 'lookup' }] } });
    expect(decoded.type === 'session.update' && decoded.session.tools?.[0]).toMatchObject({
      type: 'function',
      name: 'lookup',
    });
  });
});
