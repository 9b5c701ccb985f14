import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { precheckTextFrame } from '../../../src/protocol/text_frame_precheck.ts';

// The size check on a text frame before it is decoded: over the bound and without an "audio" member, it is
// refused with E_TEXT_TOO_LARGE (and the client's event_id when it can be found at either end); anything
// else goes on to the decoder.
const frame = (event: unknown) => Buffer.from(JSON.stringify(event));
const item = (text: string, eventId?: string) => ({
  type: 'conversation.item.create',
  ...(eventId === undefined ? {} : { event_id: eventId }),
  item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
});

describe('precheckTextFrame', () => {
  it('refuses exactly the frames over the bound without audio', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 64, max: 3000 }),
        fc.boolean(),
        (textChars, bound, withAudio) => {
          const event = withAudio
            ? {
                type: 'conversation.item.create',
                item: {
                  type: 'message',
                  role: 'user',
                  content: [{ type: 'input_audio', audio: 'A'.repeat(textChars) }],
                },
              }
            : item('x'.repeat(textChars), 'evt_1');
          const bytes = frame(event);
          const refusal = precheckTextFrame(bytes, bound);
          if (bytes.byteLength <= bound || withAudio) expect(refusal).toBeNull();
          else
            expect(refusal).toMatchObject({
              ok: false,
              code: 'E_TEXT_TOO_LARGE',
              clientEventId: 'evt_1',
              message: expect.stringContaining('limits.max_text_event_bytes'),
            });
        },
      ),
    );
  });

  it('finds the event_id at the end too, and leaves out one it cannot read', () => {
    const text = 'y'.repeat(5000);
    const last = Buffer.from(
      `{"type":"conversation.item.create","item":${JSON.stringify(item(text).item)},"event_id":"evt_last"}`,
    );
    expect(precheckTextFrame(last, 1000)?.clientEventId).toBe('evt_last');
    expect(precheckTextFrame(frame(item(text)), 1000)?.clientEventId).toBeUndefined();
    expect(precheckTextFrame(frame(item(text, 'évt')), 1000)?.clientEventId).toBeUndefined();
    // Text that quotes an event_id is escaped in JSON: not taken for the event's own.
    const quoting = frame(item(`"event_id":"evt_fake" ${text}`));
    expect(precheckTextFrame(quoting, 1000)?.clientEventId).toBeUndefined();
  });

  it('an audio append of any size is left to the decoder', () => {
    const append = frame({ type: 'input_audio_buffer.append', audio: 'AAAA'.repeat(100_000) });
    expect(precheckTextFrame(append, 1024)).toBeNull();
  });
});
