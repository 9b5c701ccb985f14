// What `earshot stream` prints for an answer: exactly one record per answer, with the response's real status.
import { describe, expect, it } from 'vitest';
import { SessionModel } from '../../../client/core/session_model.ts';
import { recordsFor, type StreamRecord } from '../../../client/stream_report.ts';
import type { ServerEvent } from '../../../src/protocol/server_events.ts';
import { ev, responseDone, textDelta } from './client_events.ts';

function replay(events: ServerEvent[]): StreamRecord[] {
  const model = new SessionModel(() => 0);
  const records: StreamRecord[] = [];
  for (const event of events) {
    model.apply(event);
    records.push(...recordsFor(event, model));
  }
  return records;
}

function answerEvents(responseId: string, itemId: string, text: string): ServerEvent[] {
  return [
    textDelta(responseId, itemId, text.slice(0, 3)),
    textDelta(responseId, itemId, text.slice(3)),
    ev({
      type: 'response.output_text.done',
      response_id: responseId,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      text,
    }),
  ];
}

function incompleteDone(id: string): ServerEvent {
  const done = responseDone(id, 'completed') as Extract<ServerEvent, { type: 'response.done' }>;
  return {
    ...done,
    response: {
      ...done.response,
      status: 'incomplete',
      status_details: { type: 'incomplete', reason: 'max_output_tokens' },
    },
  } as ServerEvent;
}

describe('stream report answers', () => {
  it('a completed answer is printed once, as completed', () => {
    const records = replay([...answerEvents('resp_1', 'item_1', 'hello there'), responseDone('resp_1', 'completed')]);
    expect(records.filter((r) => r.type === 'answer')).toEqual([
      { type: 'answer', response_id: 'resp_1', item_id: 'item_1', text: 'hello there', status: 'completed' },
    ]);
  });

  it('an answer cut by the token limit is printed once, as incomplete (never first as completed)', () => {
    const records = replay([...answerEvents('resp_2', 'item_2', 'cut short'), incompleteDone('resp_2')]);
    const answers = records.filter((r) => r.type === 'answer');
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ text: 'cut short', status: 'incomplete' });
  });

  it('a barged-in answer is printed once as cancelled, followed by the interruption', () => {
    const records = replay([
      textDelta('resp_3', 'item_3', 'I was say'),
      responseDone('resp_3', 'cancelled', 'turn_detected'),
    ]);
    expect(records.map((r) => r.type)).toEqual(['answer', 'interruption']);
    expect(records[0]).toMatchObject({ status: 'cancelled', text: 'I was say' });
  });
});
