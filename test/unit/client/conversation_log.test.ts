import { describe, expect, it } from 'vitest';
import { ConversationLog } from '../../../client/core/conversation_log.ts';
import type { FunctionCallItem } from '../../../src/protocol/server_items.ts';
import { completed, ev, responseDone, textDelta } from './client_events.ts';

const callItem = (status: 'in_progress' | 'completed', args: string): FunctionCallItem => ({
  id: 'item_call',
  object: 'realtime.item',
  type: 'function_call',
  status,
  name: 'local_time',
  call_id: 'call_1',
  arguments: args,
});

describe('ConversationLog', () => {
  it('streams an answer token by token and fills the user turn from its transcript', () => {
    const log = new ConversationLog();
    log.apply(
      ev({
        type: 'conversation.item.added',
        previous_item_id: null,
        item: {
          id: 'u1',
          object: 'realtime.item',
          type: 'message',
          status: 'completed',
          role: 'user',
          content: [{ type: 'input_audio', transcript: null }],
        },
      }),
    );
    log.apply(completed('u1', 'what time is it'));
    log.apply(textDelta('r1', 'a1', 'It is '));
    expect(log.assistantMessages()[0]).toMatchObject({ text: 'It is ', state: 'streaming' });
    log.apply(textDelta('r1', 'a1', 'noon.'));
    expect(log.apply(responseDone('r1', 'completed'))).toEqual([log.assistantMessages()[0]]);
    expect(log.entries.map((e) => e.kind)).toEqual(['user', 'assistant']);
    expect(log.entries[0]).toMatchObject({ text: 'what time is it' });
    expect(log.assistantMessages()[0]).toMatchObject({ text: 'It is noon.', state: 'done', responseId: 'r1' });
  });

  it('builds a tool card from argument deltas, the call item and the output item', () => {
    const log = new ConversationLog();
    log.apply(
      ev({ type: 'response.output_item.added', response_id: 'r1', output_index: 0, item: callItem('in_progress', '') }),
    );
    log.apply(
      ev({
        type: 'response.function_call_arguments.delta',
        response_id: 'r1',
        item_id: 'item_call',
        output_index: 0,
        call_id: 'call_1',
        delta: '{"city":',
      }),
    );
    expect(log.toolCalls()[0]).toMatchObject({ arguments: '{"city":', state: 'streaming' });
    log.apply(
      ev({
        type: 'response.function_call_arguments.done',
        response_id: 'r1',
        item_id: 'item_call',
        output_index: 0,
        call_id: 'call_1',
        name: 'local_time',
        arguments: '{"city":"Lyon"}',
      }),
    );
    log.apply(
      ev({
        type: 'response.output_item.done',
        response_id: 'r1',
        output_index: 0,
        item: callItem('completed', '{"city":"Lyon"}'),
      }),
    );
    log.apply(
      ev({
        type: 'conversation.item.added',
        previous_item_id: 'item_call',
        item: {
          id: 'item_out',
          object: 'realtime.item',
          type: 'function_call_output',
          call_id: 'call_1',
          output: '{"time":"12:00"}',
        },
      }),
    );
    expect(log.toolCalls()).toEqual([
      {
        kind: 'tool_call',
        itemId: 'item_call',
        callId: 'call_1',
        name: 'local_time',
        arguments: '{"city":"Lyon"}',
        output: '{"time":"12:00"}',
        state: 'done',
      },
    ]);
  });

  it('marks a barge-in: the answer is cancelled and an interruption entry keeps what was said', () => {
    const log = new ConversationLog();
    log.apply(textDelta('r1', 'a1', 'The train leaves'));
    const changed = log.apply(responseDone('r1', 'cancelled', 'turn_detected'));
    expect(changed.map((e) => e.kind)).toEqual(['assistant', 'interruption']);
    expect(log.interruptions).toBe(1);
    expect(log.assistantMessages()[0].state).toBe('cancelled');
    expect(log.entries[1]).toEqual({ kind: 'interruption', responseId: 'r1', partialText: 'The train leaves' });
    log.apply(textDelta('r2', 'a2', 'x'));
    log.apply(responseDone('r2', 'cancelled', 'client_cancelled'));
    expect(log.interruptions).toBe(1);
  });
});
