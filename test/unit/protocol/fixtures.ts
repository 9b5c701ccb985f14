// Valid client events per type, shared by the schema tests and the fuzz tests (as mutation seeds).
export const VALID_CLIENT_EVENTS: Record<string, unknown[]> = {
  'session.update': [
    { type: 'session.update', session: {} },
    { type: 'session.update', event_id: 'evt_1', session: { type: 'realtime', instructions: 'Be brief.' } },
    { type: 'session.update', session: { type: 'transcription', audio: { input: { turn_detection: null } } } },
  ],
  'transcription_session.update': [
    { type: 'transcription_session.update', session: { input_audio_format: 'g711_ulaw', turn_detection: null } },
  ],
  'input_audio_buffer.append': [
    { type: 'input_audio_buffer.append', audio: 'AAAA' },
    { type: 'input_audio_buffer.append', audio: '', event_id: 'x' },
  ],
  'input_audio_buffer.commit': [
    { type: 'input_audio_buffer.commit' },
    { type: 'input_audio_buffer.commit', event_id: 'e' },
  ],
  'input_audio_buffer.clear': [{ type: 'input_audio_buffer.clear' }],
  'output_audio_buffer.clear': [{ type: 'output_audio_buffer.clear' }],
  'conversation.item.create': [
    {
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    },
    {
      type: 'conversation.item.create',
      previous_item_id: null,
      item: { type: 'message', role: 'user', content: [{ type: 'input_audio', audio: 'AAAA' }] },
    },
    {
      type: 'conversation.item.create',
      previous_item_id: 'root',
      item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' },
    },
    {
      type: 'conversation.item.create',
      item: {
        id: 'item_1',
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Hello' }],
      },
    },
    {
      type: 'conversation.item.create',
      item: { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Be terse.' }] },
    },
    {
      type: 'conversation.item.create',
      item: { type: 'function_call', name: 'lookup', arguments: '{}', call_id: 'call_2' },
    },
  ],
  'conversation.item.truncate': [
    { type: 'conversation.item.truncate', item_id: 'item_1', content_index: 0, audio_end_ms: 1500 },
    { type: 'conversation.item.truncate', item_id: 'item_1', content_index: 0, audio_end_ms: 1500.5 },
  ],
  'conversation.item.delete': [{ type: 'conversation.item.delete', item_id: 'item_1' }],
  'conversation.item.retrieve': [{ type: 'conversation.item.retrieve', item_id: 'item_1' }],
  'response.create': [
    { type: 'response.create' },
    {
      type: 'response.create',
      response: {
        instructions: 'Summarise.',
        conversation: 'none',
        output_modalities: ['text'],
        max_output_tokens: 'inf',
        metadata: { topic: 'summary' },
        tool_choice: { type: 'function', name: 'lookup' },
        tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }],
        input: [
          { type: 'item_reference', id: 'item_1' },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'and?' }] },
        ],
      },
    },
  ],
  'response.cancel': [{ type: 'response.cancel' }, { type: 'response.cancel', response_id: 'resp_1' }],
};
