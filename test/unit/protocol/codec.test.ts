import { describe, expect, it } from 'vitest';
import {
  MAX_EVENT_DEPTH,
  decodeClientEvent,
  decodeErrorEvent,
  encodeServerEvent,
  formatPath,
  serverEvent,
} from '../../../src/protocol/index.ts';
import { decodeFail, decodeOk } from './helpers.ts';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('decodeClientEvent error codes', () => {
  it('E_INVALID_JSON for text that is not JSON', () => {
    for (const text of ['', '{', 'hello', '{"type":"response.cancel",}', "{'type':'x'}", 'undefined']) {
      const failure = decodeFail(text);
      expect(failure.code).toBe('E_INVALID_JSON');
      expect(failure.param).toBeUndefined();
    }
  });

  it('E_INVALID_JSON for a non-string frame instead of throwing', () => {
    const result = decodeClientEvent(Buffer.from('{}') as unknown as string);
    expect(result).toMatchObject({ ok: false, code: 'E_INVALID_JSON' });
  });

  it('E_INVALID_EVENT for JSON that is not an object', () => {
    for (const text of ['null', '1', '"response.cancel"', '[]', '[{"type":"response.cancel"}]', 'true']) {
      expect(decodeFail(text).code).toBe('E_INVALID_EVENT');
    }
  });

  it("E_INVALID_EVENT with param 'type' when type is missing or not a string", () => {
    for (const event of [{}, { type: 1 }, { type: null }, { type: ['response.cancel'] }, { event_id: 'e' }]) {
      const failure = decodeFail(event);
      expect(failure.code).toBe('E_INVALID_EVENT');
      expect(failure.param).toBe('type');
    }
  });

  it('E_UNKNOWN_EVENT names the type, quoted and bounded', () => {
    const failure = decodeFail({ type: 'response.text.delta', event_id: 'e9' });
    expect(failure).toMatchObject({ code: 'E_UNKNOWN_EVENT', param: 'type', clientEventId: 'e9' });
    expect(failure.message).toContain('"response.text.delta"');
    const long = decodeFail({ type: 'z'.repeat(10_000) });
    expect(long.code).toBe('E_UNKNOWN_EVENT');
    expect(long.message.length).toBeLessThan(200);
    // Server event names and prototype keys are not client events.
    for (const type of ['session.updated', 'error', '__proto__', 'constructor', 'hasOwnProperty', 'SESSION.UPDATE']) {
      expect(decodeFail({ type }).code).toBe('E_UNKNOWN_EVENT');
    }
  });

  it('lists every schema issue as path: message, param = first path', () => {
    const failure = decodeFail({
      type: 'session.update',
      event_id: 'client-7',
      session: { type: 'voice', instructions: 3, audio: { input: { format: { type: 'audio/pcm', rate: 'fast' } } } },
    });
    expect(failure.code).toBe('E_INVALID_EVENT');
    expect(failure.clientEventId).toBe('client-7');
    expect(failure.param).toBe('session.type');
    expect(failure.message).toMatch(/^Invalid 'session.update' event: /);
    for (const path of ['session.type: ', 'session.instructions: ', 'session.audio.input.format.rate: ']) {
      expect(failure.message).toContain(path);
    }
  });

  it('caps the issue list and counts the rest', () => {
    const content = Array.from({ length: 20 }, () => ({ type: 'input_text', text: 1 }));
    const failure = decodeFail({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content } });
    expect(failure.param).toBe('item.content[0].text');
    expect(failure.message).toContain('and 12 more issues');
    expect(failure.message).not.toContain('item.content[8].text');
  });

  it('keeps a string event_id, drops a non-string or oversized one', () => {
    expect(decodeFail({ type: 'response.cancel', event_id: 'abc', response_id: 1 }).clientEventId).toBe('abc');
    expect(decodeFail({ type: 'response.cancel', event_id: 12, response_id: 1 }).clientEventId).toBeUndefined();
    const huge = decodeFail({ type: 'response.cancel', event_id: 'e'.repeat(513) });
    expect(huge.clientEventId).toBeUndefined();
    expect(huge.param).toBe('event_id');
    expect(decodeOk({ type: 'response.cancel', event_id: 'e'.repeat(512) }).event_id).toHaveLength(512);
  });

  it(`accepts nesting up to ${MAX_EVENT_DEPTH} levels and rejects deeper`, () => {
    // The event object is level 1, session level 2, so `unknown` may hold MAX_EVENT_DEPTH - 2 levels.
    expect(decodeOk({ type: 'session.update', session: { unknown: nested(MAX_EVENT_DEPTH - 2) } }).type).toBe(
      'session.update',
    );
    const failure = decodeFail({
      type: 'session.update',
      event_id: 'd',
      session: { unknown: nested(MAX_EVENT_DEPTH - 1) },
    });
    expect(failure).toMatchObject({ code: 'E_INVALID_EVENT', clientEventId: 'd' });
    expect(failure.message).toContain(String(MAX_EVENT_DEPTH));
  });

  it('decodes a 4 MiB append with the audio string intact', () => {
    const audio = 'QUJD'.repeat(1024 * 1024);
    const event = decodeOk({ type: 'input_audio_buffer.append', event_id: 'big', audio });
    expect(event.type === 'input_audio_buffer.append' && event.audio).toBe(audio);
  });
});

describe('formatPath', () => {
  it('dots keys and brackets indices', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['session', 'tools', 0, 'name'])).toBe('session.tools[0].name');
    expect(formatPath(['item', 'content', 12])).toBe('item.content[12]');
    expect(formatPath(['response', 'metadata', 'k'.repeat(1000)])).toBe(`response.metadata.${'k'.repeat(64)}…`);
  });

  it('bounds a param built from a huge client key', () => {
    const failure = decodeFail({ type: 'response.create', response: { metadata: { ['k'.repeat(100_000)]: 1 } } });
    expect(failure.param?.length).toBeLessThan(100);
    expect(failure.message.length).toBeLessThan(400);
  });
});

describe('error events and encoding', () => {
  it('turns a decode failure into an OpenAI-shaped error event', () => {
    const failure = decodeFail({ type: 'conversation.item.delete', event_id: 'del-1' });
    const event = decodeErrorEvent(failure);
    expect(event).toEqual({
      type: 'error',
      event_id: expect.stringMatching(/^event_/),
      error: {
        type: 'invalid_request_error',
        code: 'E_INVALID_EVENT',
        message: failure.message,
        param: 'item_id',
        event_id: 'del-1',
      },
    });
  });

  it('encodes server events as JSON that parses back', () => {
    const event = serverEvent({ type: 'input_audio_buffer.speech_started', audio_start_ms: 120, item_id: 'item_x' });
    expect(JSON.parse(encodeServerEvent(event))).toEqual(event);
  });
});
