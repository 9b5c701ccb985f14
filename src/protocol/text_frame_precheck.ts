// A size check on a client text frame before it is decoded. Turning a frame into an event costs the
// event loop a UTF-8 decode and a JSON.parse of every byte (about 15 ms per MB here), and a text item over
// limits.max_item_text_bytes is refused anyway once parsed: a client sending megabyte items holds every
// other session's events for that long per frame. Only audio makes a legitimate event that large (appends,
// input_audio content), so a frame over the bound that has no "audio" member is refused from its length.
// A frame that merely mentions "audio" takes the ordinary path and its bounds (nothing is lost, only the
// shortcut); the check is one memchr-like scan of the bytes.
import type { DecodeFailure } from './codec.ts';
import { MAX_CLIENT_EVENT_ID_CHARS } from './client_events.ts';

const AUDIO_MEMBER = Buffer.from('"audio"');
/** The client's event_id is looked for in this many bytes at each end of the frame. */
const EVENT_ID_SCAN_BYTES = 512;
const EVENT_ID_PATTERN = /"event_id"\s*:\s*"([^"\\]{1,128})"/;

/** A refusal for a frame over `maxTextEventBytes` without audio, or null when it goes on to be decoded. */
export function precheckTextFrame(frame: Buffer, maxTextEventBytes: number): DecodeFailure | null {
  if (frame.byteLength <= maxTextEventBytes) return null;
  if (frame.includes(AUDIO_MEMBER)) return null;
  const clientEventId = findEventId(frame);
  return {
    ok: false,
    code: 'E_TEXT_TOO_LARGE',
    message: `The event is ${frame.byteLength} bytes and carries no audio; events without audio are limited to ${maxTextEventBytes} bytes (limits.max_text_event_bytes).`,
    ...(clientEventId === undefined ? {} : { clientEventId }),
  };
}

/** The event_id near either end of the frame (clients put it first or last), for the error event. */
function findEventId(frame: Buffer): string | undefined {
  const head = frame.subarray(0, EVENT_ID_SCAN_BYTES).toString('latin1');
  const tail = frame.subarray(Math.max(0, frame.byteLength - EVENT_ID_SCAN_BYTES)).toString('latin1');
  const id = EVENT_ID_PATTERN.exec(head)?.[1] ?? EVENT_ID_PATTERN.exec(tail)?.[1];
  // Bytes read as latin1: an id that is not plain ASCII is left out rather than garbled.
  return id !== undefined && id.length <= MAX_CLIENT_EVENT_ID_CHARS && /^[\x20-\x7e]+$/.test(id) ? id : undefined;
}
