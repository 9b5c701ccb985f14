// input_audio_buffer.append is nearly all of a streaming client's traffic: 50 events a second, each a
// 1-2 KB base64 string. JSON.parse copies that string out of the message and zod copies the object; at
// 200 connections these copies were the largest allocation on the main thread. The usual serializations
// of the event are recognised here instead, and the audio stays a slice of the message text.
//
// Only a flat object whose members are all strings without escapes is taken, with exactly the members
// `type` (= "input_audio_buffer.append"), `audio` and optionally `event_id` (within its length limit), in
// any order and with any JSON whitespace. Everything else returns null and takes the general path
// (codec.ts), so every error code and message stays the general path's. The result equals what
// JSON.parse plus the schema produce for the same text (test/unit/protocol/append_fast_path.test.ts).
import { MAX_CLIENT_EVENT_ID_CHARS, type InputAudioBufferAppendEvent } from './client_events.ts';

const APPEND_TYPE = 'input_audio_buffer.append';
/** Raw control characters are not allowed in JSON strings: a string with one takes the general path. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f]/;
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function skipWhitespace(text: string, index: number): number {
  for (;;) {
    const c = text.charCodeAt(index);
    // JSON whitespace: space, tab, line feed, carriage return.
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) index++;
    else return index;
  }
}

/** The string starting at text[index] (a quote): [value, index after the closing quote], or null. */
function readString(text: string, index: number): [string, number] | null {
  if (text.charCodeAt(index) !== QUOTE) return null;
  const end = text.indexOf('"', index + 1);
  if (end === -1) return null;
  const value = text.slice(index + 1, end);
  return CONTROL_CHARACTER.test(value) ? null : [value, end + 1];
}

/** The append event in `text`, or null when the text is anything else (the general path decides). */
export function parseFastAppendEvent(text: string): InputAudioBufferAppendEvent | null {
  // Cheap rejections first: other event types, escapes (a value might then differ from its raw text).
  if (!text.includes(APPEND_TYPE) || text.includes('\\')) return null;
  let index = skipWhitespace(text, 0);
  if (text.charCodeAt(index) !== OPEN_BRACE) return null;
  index = skipWhitespace(text, index + 1);
  let type: string | undefined;
  let audio: string | undefined;
  let eventId: string | undefined;
  for (;;) {
    const key = readString(text, index);
    if (key === null) return null;
    index = skipWhitespace(text, key[1]);
    if (text.charCodeAt(index) !== COLON) return null;
    const value = readString(text, skipWhitespace(text, index + 1));
    if (value === null) return null;
    if (key[0] === 'type' && type === undefined) type = value[0];
    else if (key[0] === 'audio' && audio === undefined) audio = value[0];
    else if (key[0] === 'event_id' && eventId === undefined) eventId = value[0];
    else return null; // another member, or a repeated one (JSON.parse keeps the last): general path
    index = skipWhitespace(text, value[1]);
    const separator = text.charCodeAt(index);
    index = skipWhitespace(text, index + 1);
    if (separator === CLOSE_BRACE) break;
    if (separator !== COMMA) return null;
  }
  if (index !== text.length || type !== APPEND_TYPE || audio === undefined) return null;
  if (eventId === undefined) return { type, audio };
  if (eventId.length > MAX_CLIENT_EVENT_ID_CHARS) return null;
  return { type, event_id: eventId, audio };
}
