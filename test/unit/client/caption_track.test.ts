import { describe, expect, it } from 'vitest';
import { CaptionTrack } from '../../../client/core/caption_track.ts';
import { completed, delta, ev, started, stopped } from './client_events.ts';

describe('CaptionTrack', () => {
  it('shows interim text from deltas and replaces it with the final transcript', () => {
    const track = new CaptionTrack();
    track.apply(started('item_a', 1200));
    expect(track.interim()).toMatchObject({ itemId: 'item_a', state: 'speaking', text: '', startMs: 1200 });
    track.apply(stopped('item_a', 3400));
    track.apply(delta('item_a', 'hello '));
    track.apply(delta('item_a', 'wrld'));
    expect(track.interim()).toMatchObject({ state: 'pending', text: 'hello wrld', endMs: 3400 });
    expect(track.finals()).toEqual([]);
    track.apply(completed('item_a', ' hello world '));
    expect(track.interim()).toBeNull();
    expect(track.finals()).toEqual([
      { itemId: 'item_a', startMs: 1200, endMs: 3400, text: 'hello world', state: 'final' },
    ]);
  });

  it('keeps utterances in order and ignores late deltas after the final', () => {
    const track = new CaptionTrack();
    track.apply(started('a', 0));
    track.apply(stopped('a', 900));
    track.apply(started('b', 1500));
    track.apply(completed('a', 'one'));
    track.apply(delta('a', ' extra'));
    track.apply(stopped('b', 2500));
    track.apply(completed('b', 'two'));
    expect(track.finals().map((c) => c.text)).toEqual(['one', 'two']);
  });

  it('creates a caption for a transcript whose speech events it never saw, and drops failed and empty ones from finals', () => {
    const track = new CaptionTrack();
    track.apply(completed('manual', 'typed commit'));
    track.apply(started('x', 10));
    track.apply(
      ev({
        type: 'conversation.item.input_audio_transcription.failed',
        item_id: 'x',
        content_index: 0,
        error: { type: 'server_error', code: 'E_ENGINE', message: 'boom' },
      }),
    );
    track.apply(completed('empty', '   '));
    expect(track.finals().map((c) => c.itemId)).toEqual(['manual']);
    expect(track.byId('x')?.state).toBe('failed');
    expect(track.apply(ev({ type: 'input_audio_buffer.cleared' }))).toBeNull();
  });
});
