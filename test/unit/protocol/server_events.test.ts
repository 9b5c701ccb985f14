import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  errorEvent,
  errorTypeOf,
  newCallId,
  newConversationId,
  newEventId,
  newItemId,
  newResponseId,
  newSessionId,
  serverEvent,
  type ConversationItem,
  type RealtimeResponseObject,
  type RealtimeSessionObject,
  type ServerEventPayload,
  type ServerEventType,
} from '../../../src/protocol/index.ts';

describe('ids', () => {
  const makers: Array<[string, () => string]> = [
    ['event_', newEventId],
    ['item_', newItemId],
    ['resp_', newResponseId],
    ['sess_', newSessionId],
    ['call_', newCallId],
    ['conv_', newConversationId],
  ];

  for (const [prefix, make] of makers) {
    it(`${prefix} ids: prefix + 20 url-safe chars`, () => {
      for (let i = 0; i < 1000; i++) expect(make()).toMatch(new RegExp(`^${prefix}[0-9A-Za-z]{20}$`));
    });
  }

  it('event ids are unique over 100k calls', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(newEventId());
    expect(seen.size).toBe(100_000);
  });

  it('item ids are unique over 100k calls and their random part varies', () => {
    const ids = Array.from({ length: 100_000 }, newItemId);
    expect(new Set(ids).size).toBe(100_000);
    // The random 14 chars alone must be (practically) unique too, not just the counter tail.
    expect(new Set(ids.map((id) => id.slice(5, 19))).size).toBe(100_000);
  });
});

const item: ConversationItem = {
  id: 'item_a',
  object: 'realtime.item',
  type: 'message',
  status: 'completed',
  role: 'user',
  content: [{ type: 'input_audio', transcript: 'hello' }],
};
const callItem: ConversationItem = {
  id: 'item_b',
  object: 'realtime.item',
  type: 'function_call',
  status: 'completed',
  name: 'get_weather',
  call_id: 'call_1',
  arguments: '{"city":"Oslo"}',
};
const response: RealtimeResponseObject = {
  id: 'resp_1',
  object: 'realtime.response',
  status: 'cancelled',
  status_details: { type: 'cancelled', reason: 'turn_detected' },
  output: [callItem],
  conversation_id: 'conv_1',
  output_modalities: ['text'],
  max_output_tokens: 'inf',
  usage: {
    total_tokens: 30,
    input_tokens: 20,
    output_tokens: 10,
    input_token_details: { text_tokens: 5, audio_tokens: 15, cached_tokens: 0 },
    output_token_details: { text_tokens: 10, audio_tokens: 0 },
  },
  metadata: null,
};
const session: RealtimeSessionObject = {
  id: 'sess_1',
  object: 'realtime.session',
  type: 'realtime',
  model: 'phi-4-multimodal-instruct',
  output_modalities: ['text'],
  instructions: 'Be brief.',
  audio: {
    input: {
      format: { type: 'audio/pcm', rate: 24000 },
      transcription: { model: 'phi-4-multimodal-instruct' },
      noise_reduction: null,
      turn_detection: {
        type: 'server_vad',
        threshold: 0.5,
        prefix_padding_ms: 300,
        silence_duration_ms: 500,
        create_response: true,
        interrupt_response: true,
        idle_timeout_ms: null,
      },
    },
  },
  tools: [],
  tool_choice: 'auto',
  max_output_tokens: 'inf',
  tracing: null,
  prompt: null,
  include: null,
  expires_at: 1_900_000_000,
};
const ref = { response_id: 'resp_1', item_id: 'item_c', output_index: 0, content_index: 0 };

// One payload per server event type; the Record type makes tsc fail if a type is missing here.
const samples: Record<ServerEventType, ServerEventPayload> = {
  'session.created': { type: 'session.created', session },
  'session.updated': { type: 'session.updated', session },
  'conversation.created': {
    type: 'conversation.created',
    conversation: { id: 'conv_1', object: 'realtime.conversation' },
  },
  'input_audio_buffer.speech_started': {
    type: 'input_audio_buffer.speech_started',
    audio_start_ms: 100,
    item_id: 'item_a',
  },
  'input_audio_buffer.speech_stopped': {
    type: 'input_audio_buffer.speech_stopped',
    audio_end_ms: 900,
    item_id: 'item_a',
  },
  'input_audio_buffer.committed': { type: 'input_audio_buffer.committed', item_id: 'item_a', previous_item_id: null },
  'input_audio_buffer.cleared': { type: 'input_audio_buffer.cleared' },
  'input_audio_buffer.timeout_triggered': {
    type: 'input_audio_buffer.timeout_triggered',
    audio_start_ms: 0,
    audio_end_ms: 6000,
    item_id: 'item_d',
  },
  'conversation.item.created': { type: 'conversation.item.created', previous_item_id: null, item },
  'conversation.item.added': { type: 'conversation.item.added', previous_item_id: 'item_z', item },
  'conversation.item.done': { type: 'conversation.item.done', previous_item_id: 'item_z', item },
  'conversation.item.retrieved': { type: 'conversation.item.retrieved', item },
  'conversation.item.deleted': { type: 'conversation.item.deleted', item_id: 'item_a' },
  'conversation.item.truncated': {
    type: 'conversation.item.truncated',
    item_id: 'item_a',
    content_index: 0,
    audio_end_ms: 10,
  },
  'conversation.item.input_audio_transcription.delta': {
    type: 'conversation.item.input_audio_transcription.delta',
    item_id: 'item_a',
    content_index: 0,
    delta: 'hel',
  },
  'conversation.item.input_audio_transcription.completed': {
    type: 'conversation.item.input_audio_transcription.completed',
    item_id: 'item_a',
    content_index: 0,
    transcript: 'hello',
    usage: {
      type: 'tokens',
      input_tokens: 10,
      output_tokens: 2,
      total_tokens: 12,
      input_token_details: { text_tokens: 0, audio_tokens: 10 },
    },
  },
  'conversation.item.input_audio_transcription.failed': {
    type: 'conversation.item.input_audio_transcription.failed',
    item_id: 'item_a',
    content_index: 0,
    error: { type: 'server_error', code: 'E_ENGINE', message: 'engine failed' },
  },
  'response.created': {
    type: 'response.created',
    response: { ...response, status: 'in_progress', status_details: null, output: [], usage: null },
  },
  'response.done': { type: 'response.done', response },
  'response.output_item.added': {
    type: 'response.output_item.added',
    response_id: 'resp_1',
    output_index: 0,
    item: callItem,
  },
  'response.output_item.done': {
    type: 'response.output_item.done',
    response_id: 'resp_1',
    output_index: 0,
    item: callItem,
  },
  'response.content_part.added': { type: 'response.content_part.added', ...ref, part: { type: 'text', text: '' } },
  'response.content_part.done': { type: 'response.content_part.done', ...ref, part: { type: 'text', text: 'Hi.' } },
  'response.output_text.delta': { type: 'response.output_text.delta', ...ref, delta: 'Hi' },
  'response.output_text.done': { type: 'response.output_text.done', ...ref, text: 'Hi.' },
  'response.function_call_arguments.delta': {
    type: 'response.function_call_arguments.delta',
    response_id: 'resp_1',
    item_id: 'item_b',
    output_index: 0,
    call_id: 'call_1',
    delta: '{"ci',
  },
  'response.function_call_arguments.done': {
    type: 'response.function_call_arguments.done',
    response_id: 'resp_1',
    item_id: 'item_b',
    output_index: 0,
    call_id: 'call_1',
    name: 'get_weather',
    arguments: '{"city":"Oslo"}',
  },
  'response.output_audio.delta': { type: 'response.output_audio.delta', ...ref, delta: 'AAAA' },
  'response.output_audio.done': { type: 'response.output_audio.done', ...ref },
  'response.output_audio_transcript.delta': { type: 'response.output_audio_transcript.delta', ...ref, delta: 'Hel' },
  'response.output_audio_transcript.done': {
    type: 'response.output_audio_transcript.done',
    ...ref,
    transcript: 'Hello.',
  },
  'output_audio_buffer.started': { type: 'output_audio_buffer.started', response_id: 'resp_1' },
  'output_audio_buffer.stopped': { type: 'output_audio_buffer.stopped', response_id: 'resp_1' },
  'output_audio_buffer.cleared': { type: 'output_audio_buffer.cleared', response_id: 'resp_1' },
  'rate_limits.updated': {
    type: 'rate_limits.updated',
    rate_limits: [{ name: 'requests', limit: 1000, remaining: 999, reset_seconds: 60 }],
  },
  error: errorEvent('E_BUFFER_EMPTY', 'Nothing to commit.'),
};

// The required fields @openai/agents-realtime checks before it accepts an event (it drops an event that
// misses one). Written from its openaiRealtimeEvents.ts; objects are loose like its checks.
const str = z.string();
const num = z.number();
const itemCheck = z.looseObject({
  id: str.optional(),
  type: z.enum(['message', 'function_call', 'function_call_output']).optional(),
  role: z.enum(['user', 'assistant', 'system']).optional(),
  status: z.enum(['completed', 'incomplete', 'in_progress']).optional(),
  content: z
    .array(
      z.looseObject({
        type: z.enum(['input_text', 'input_audio', 'item_reference', 'output_text', 'audio', 'output_audio']),
        text: str.nullable().optional(),
        transcript: str.nullable().optional(),
      }),
    )
    .optional(),
});
const responseCheck = z.looseObject({
  id: str.nullable().optional(),
  object: z.literal('realtime.response').nullable().optional(),
  status: z.enum(['completed', 'incomplete', 'failed', 'cancelled', 'in_progress']).nullable().optional(),
  status_details: z.record(str, z.any()).nullable().optional(),
  output: z.array(z.any()).nullable().optional(),
  usage: z.looseObject({ input_tokens: num.optional(), output_tokens: num.optional() }).nullable().optional(),
});
const contentRef = { response_id: str, item_id: str, output_index: num, content_index: num };
const partCheck = z.looseObject({ type: z.enum(['text', 'audio']).optional(), text: str.optional() });
const agentsChecks: Record<ServerEventType, z.ZodType> = {
  'session.created': z.looseObject({ session: z.any() }),
  'session.updated': z.looseObject({ session: z.any() }),
  'conversation.created': z.looseObject({ conversation: z.looseObject({ id: str.optional() }) }),
  'input_audio_buffer.speech_started': z.looseObject({ item_id: str, audio_start_ms: num }),
  'input_audio_buffer.speech_stopped': z.looseObject({ item_id: str, audio_end_ms: num }),
  'input_audio_buffer.committed': z.looseObject({ item_id: str, previous_item_id: str.nullable().optional() }),
  'input_audio_buffer.cleared': z.looseObject({}),
  'input_audio_buffer.timeout_triggered': z.looseObject({ item_id: str, audio_start_ms: num, audio_end_ms: num }),
  'conversation.item.created': z.looseObject({ item: itemCheck, previous_item_id: str.nullable().optional() }),
  'conversation.item.added': z.looseObject({ item: itemCheck, previous_item_id: str.nullable().optional() }),
  'conversation.item.done': z.looseObject({ item: itemCheck, previous_item_id: str.nullable().optional() }),
  'conversation.item.retrieved': z.looseObject({ item: itemCheck }),
  'conversation.item.deleted': z.looseObject({ item_id: str }),
  'conversation.item.truncated': z.looseObject({ item_id: str, audio_end_ms: num, content_index: num }),
  'conversation.item.input_audio_transcription.delta': z.looseObject({
    item_id: str,
    content_index: num.optional(),
    delta: str.optional(),
  }),
  'conversation.item.input_audio_transcription.completed': z.looseObject({
    item_id: str,
    content_index: num,
    transcript: str,
    usage: z
      .discriminatedUnion('type', [
        z.looseObject({
          type: z.literal('tokens'),
          total_tokens: num,
          input_tokens: num,
          output_tokens: num,
          input_token_details: z.looseObject({ text_tokens: num, audio_tokens: num }),
        }),
        z.looseObject({ type: z.literal('duration'), seconds: num }),
      ])
      .optional(),
  }),
  'conversation.item.input_audio_transcription.failed': z.looseObject({
    item_id: str,
    content_index: num,
    error: z.looseObject({
      code: str.optional(),
      message: str.optional(),
      param: str.optional(),
      type: str.optional(),
    }),
  }),
  'response.created': z.looseObject({ response: responseCheck }),
  'response.done': z.looseObject({ response: responseCheck }),
  'response.output_item.added': z.looseObject({ item: itemCheck, output_index: num, response_id: str }),
  'response.output_item.done': z.looseObject({ item: itemCheck, output_index: num, response_id: str }),
  'response.content_part.added': z.looseObject({ ...contentRef, part: partCheck }),
  'response.content_part.done': z.looseObject({ ...contentRef, part: partCheck }),
  'response.output_text.delta': z.looseObject({ ...contentRef, delta: str }),
  'response.output_text.done': z.looseObject({ ...contentRef, text: str }),
  'response.function_call_arguments.delta': z.looseObject({
    response_id: str,
    item_id: str,
    output_index: num,
    call_id: str,
    delta: str,
  }),
  'response.function_call_arguments.done': z.looseObject({
    response_id: str,
    item_id: str,
    output_index: num,
    call_id: str,
    arguments: str,
  }),
  'response.output_audio.delta': z.looseObject({ ...contentRef, delta: str }),
  'response.output_audio.done': z.looseObject({ ...contentRef }),
  'response.output_audio_transcript.delta': z.looseObject({ ...contentRef, delta: str }),
  'response.output_audio_transcript.done': z.looseObject({ ...contentRef, transcript: str }),
  'output_audio_buffer.started': z.looseObject({}),
  'output_audio_buffer.stopped': z.looseObject({}),
  'output_audio_buffer.cleared': z.looseObject({}),
  'rate_limits.updated': z.looseObject({
    rate_limits: z.array(z.looseObject({ name: z.enum(['requests', 'tokens']).optional(), limit: num.optional() })),
  }),
  error: z.looseObject({ error: z.any() }),
};

describe('server events', () => {
  it('serverEvent stamps a fresh event_id without touching the payload', () => {
    const payload = { type: 'input_audio_buffer.cleared' } as const;
    const a = serverEvent(payload);
    const b = serverEvent(payload);
    expect(a).toEqual({
      type: 'input_audio_buffer.cleared',
      event_id: expect.stringMatching(/^event_[0-9A-Za-z]{20}$/),
    });
    expect(a.event_id).not.toBe(b.event_id);
    expect(payload).toEqual({ type: 'input_audio_buffer.cleared' });
  });

  for (const [type, payload] of Object.entries(samples) as Array<[ServerEventType, ServerEventPayload]>) {
    it(`${type} carries the fields agents-realtime requires`, () => {
      const event = JSON.parse(JSON.stringify(serverEvent(payload)));
      expect(event.type).toBe(type);
      expect(event.event_id).toMatch(/^event_/);
      const check = agentsChecks[type].safeParse(event);
      expect(check.success, JSON.stringify(check.error?.issues)).toBe(true);
    });
  }

  it('the conformance checks can fail (a missing id is caught)', () => {
    const { item_id: _dropped, ...withoutItemId } = serverEvent(samples['response.output_text.delta']) as Record<
      string,
      unknown
    >;
    expect(agentsChecks['response.output_text.delta'].safeParse(withoutItemId).success).toBe(false);
  });
});

describe('errorEvent', () => {
  it('builds the OpenAI error shape with nulls for absent param and event id', () => {
    expect(errorEvent('E_INVALID_BASE64', 'bad audio')).toEqual({
      type: 'error',
      event_id: expect.stringMatching(/^event_/),
      error: {
        type: 'invalid_request_error',
        code: 'E_INVALID_BASE64',
        message: 'bad audio',
        param: null,
        event_id: null,
      },
    });
  });

  it('echoes param and the client event id, and honours an explicit type', () => {
    const event = errorEvent('E_UNSUPPORTED_FORMAT', 'rate 44100 is not supported', {
      param: 'session.audio.input.format.rate',
      clientEventId: 'evt_9',
      type: 'server_error',
    });
    expect(event.error).toMatchObject({
      param: 'session.audio.input.format.rate',
      event_id: 'evt_9',
      type: 'server_error',
    });
  });

  it('classifies engine and model failures as server errors, input problems as request errors', () => {
    expect(errorTypeOf('E_ENGINE')).toBe('server_error');
    expect(errorTypeOf('E_ENGINE_BUSY')).toBe('server_error');
    expect(errorTypeOf('E_INTERNAL')).toBe('server_error');
    expect(errorTypeOf('E_INVALID_JSON')).toBe('invalid_request_error');
    expect(errorTypeOf('E_BUFFER_EMPTY')).toBe('invalid_request_error');
  });

  it('falls back to the catalogue message when the message is empty', () => {
    expect(errorEvent('E_BUFFER_EMPTY', '').error.message).toBe('There is no uncommitted audio to commit.');
  });
});
