// The append fast path must accept only texts the general path (JSON.parse + schema) accepts, and give
// the same event for them; anything else goes to the general path, whose errors stay the errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFastAppendEvent } from '../../../src/protocol/append_fast_path.ts';
import { inputAudioBufferAppendEventSchema, MAX_CLIENT_EVENT_ID_CHARS } from '../../../src/protocol/client_events.ts';
import { decodeClientEvent } from '../../../src/protocol/codec.ts';

const AUDIO = Buffer.from(Array.from({ length: 960 }, (_, i) => (i * 37) & 255)).toString('base64');

function generalPath(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = inputAudioBufferAppendEventSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

describe('append fast path', () => {
  it('takes the serializations SDKs send', () => {
    const forms = [
      JSON.stringify({ type: 'input_audio_buffer.append', audio: AUDIO }),
      JSON.stringify({ event_id: 'evt_1', type: 'input_audio_buffer.append', audio: AUDIO }),
      JSON.stringify({ type: 'input_audio_buffer.append', audio: AUDIO, event_id: 'evt_2' }),
      JSON.stringify({ audio: AUDIO, type: 'input_audio_buffer.append' }),
      `{"type": "input_audio_buffer.append", "audio": "${AUDIO}"}`, // Python's json.dumps
      JSON.stringify({ type: 'input_audio_buffer.append', audio: AUDIO }, null, 2),
      JSON.stringify({ type: 'input_audio_buffer.append', audio: '' }),
    ];
    for (const text of forms) {
      const fast = parseFastAppendEvent(text);
      expect(fast, text.slice(0, 60)).not.toBeNull();
      expect(fast).toEqual(generalPath(text));
    }
  });

  it('leaves everything unusual to the general path', () => {
    const general = [
      JSON.stringify({ type: 'input_audio_buffer.append', audio: 'AA\\/A' }), // an escape
      `{"type":"input_audio_buffer.append","audio":"AA\tA"}`, // a raw control character (invalid JSON)
      JSON.stringify({ type: 'input_audio_buffer.append', audio: AUDIO, extra: 'x' }),
      `{"type":"input_audio_buffer.append","audio":"AAAA","audio":"BBBB"}`, // repeated member
      JSON.stringify({ type: 'input_audio_buffer.append', audio: 5 }),
      JSON.stringify({ type: 'input_audio_buffer.append' }),
      JSON.stringify({ type: 'input_audio_buffer.commit', audio: AUDIO }),
      JSON.stringify({
        type: 'input_audio_buffer.append',
        audio: AUDIO,
        event_id: 'e'.repeat(MAX_CLIENT_EVENT_ID_CHARS + 1),
      }),
      `{"type":"input_audio_buffer.append","audio":"AAAA"} x`,
      `{"type":"input_audio_buffer.append","audio":"AAAA",}`,
      `["input_audio_buffer.append"]`,
    ];
    for (const text of general) expect(parseFastAppendEvent(text), text.slice(0, 80)).toBeNull();
  });

  it('keeps the general path errors for texts it leaves', () => {
    const tooLong = decodeClientEvent(
      JSON.stringify({
        type: 'input_audio_buffer.append',
        audio: 'AAAA',
        event_id: 'e'.repeat(MAX_CLIENT_EVENT_ID_CHARS + 1),
      }),
    );
    expect(tooLong.ok).toBe(false);
    const badJson = decodeClientEvent(`{"type":"input_audio_buffer.append","audio":"AA\tA"}`);
    expect(badJson).toMatchObject({ ok: false, code: 'E_INVALID_JSON' });
  });

  it('agrees with JSON.parse + the schema on generated texts (property)', () => {
    const ws = fc.constantFrom('', ' ', '  ', '\n', '\t', '\r\n ');
    const raw = fc.oneof(
      fc.constantFrom('input_audio_buffer.append', 'input_audio_buffer.commit', AUDIO.slice(0, 40), '', 'evt_7'),
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    );
    // A value is written raw between quotes (possibly invalid JSON) or properly escaped.
    const value = fc.oneof(
      raw.map((s) => `"${s}"`),
      raw.map((s) => JSON.stringify(s)),
      fc.constantFrom('5', 'null', '{}', '[]', '"a"b"'),
    );
    const key = fc.constantFrom('"type"', '"audio"', '"event_id"', '"other"', '"type\\u0000"', 'type');
    const member = fc.tuple(ws, key, ws, value, ws).map(([a, k, b, v, c]) => `${a}${k}${b}:${b}${v}${c}`);
    const text = fc
      .tuple(ws, fc.array(member, { maxLength: 4 }), ws, fc.constantFrom('', ' ', ',', 'x'))
      .map(([a, members, b, tail]) => `${a}{${members.join(',')}}${b}${tail}`);
    const likely = fc
      .tuple(fc.array(fc.constantFrom('event_id', 'type', 'audio'), { minLength: 1, maxLength: 4 }), ws)
      .map(
        ([keys, space]) =>
          `{${keys.map((k) => `"${k}":${space}"${k === 'type' ? 'input_audio_buffer.append' : k === 'audio' ? AUDIO.slice(0, 16) : 'e1'}"`).join(`,${space}`)}}`,
      );
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(text, likely), (candidate) => {
        const fast = parseFastAppendEvent(candidate);
        if (fast !== null) {
          taken++;
          expect(fast).toEqual(generalPath(candidate));
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
    expect(taken).toBeGreaterThan(100); // the property is not vacuous
  });
});
