// The playback buffer resamples as frames are taken, not as audio is written: the frames must be exactly
// what resampling each item whole gives, however the writes were cut, with item boundaries, the end of a
// response, the bound on buffered audio and a flush before anything played.
import { describe, expect, it } from 'vitest';
import { float32ToInt16, int16ToFloat32 } from '../../../src/audio/pcm.ts';
import { StreamingResampler } from '../../../src/audio/resample.ts';
import { OutputAudioQueue } from '../../../src/transport/webrtc/output_audio_queue.ts';

const FRAME = 960;

function voice24k(samples: number, seed: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(7000 * Math.sin((2 * Math.PI * (180 + seed * 40) * i) / 24_000) + 2000 * Math.sin(i * 0.37 * seed)),
  );
}

/** Each item resampled whole (push + flush), one after the other: what the frames must carry. */
function resampledWhole(items: Int16Array[]): Int16Array {
  const parts = items.map((pcm) => {
    const resampler = new StreamingResampler(24_000, 48_000);
    const head = resampler.push(int16ToFloat32(pcm));
    const tail = resampler.flush();
    const all = new Float32Array(head.length + tail.length);
    all.set(head);
    all.set(tail, head.length);
    return float32ToInt16(all);
  });
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function takeAll(queue: OutputAudioQueue): { pcm: Int16Array; frames: number; lastFlags: boolean[] } {
  const frames: Int16Array[] = [];
  const lastFlags: boolean[] = [];
  for (let frame = queue.takeFrame(); frame; frame = queue.takeFrame()) {
    frames.push(frame.pcm48k);
    lastFlags.push(frame.last);
  }
  const pcm = new Int16Array(frames.length * FRAME);
  frames.forEach((f, i) => pcm.set(f, i * FRAME));
  return { pcm, frames: frames.length, lastFlags };
}

describe('OutputAudioQueue', () => {
  it('gives the frames of each item resampled whole, whatever the write sizes', () => {
    const queue = new OutputAudioQueue({ frameSamples: FRAME, maxBufferedSamples: 48_000 * 60 });
    const first = voice24k(24_000, 1);
    const second = voice24k(7_777, 2);
    for (let offset = 0; offset < first.length; offset += 1_234)
      queue.write('resp_1', 'item_1', first.subarray(offset, offset + 1_234));
    for (let offset = 0; offset < second.length; offset += 333)
      queue.write('resp_1', 'item_2', second.subarray(offset, offset + 333));
    // Counted at 48 kHz as soon as written (the bound and bufferedMs see it before it is resampled).
    expect(queue.buffered).toBe((first.length + second.length) * 2);
    expect(queue.end('resp_1')).toBe(false);
    const expected = resampledWhole([first, second]);
    const { pcm, frames, lastFlags } = takeAll(queue);
    expect(frames).toBe(Math.ceil(expected.length / FRAME));
    expect(Array.from(pcm.subarray(0, expected.length))).toEqual(Array.from(expected));
    expect(pcm.subarray(expected.length).every((s) => s === 0)).toBe(true); // the last frame's padding
    expect(lastFlags.filter(Boolean)).toHaveLength(1);
    expect(lastFlags[lastFlags.length - 1]).toBe(true);
    expect(queue.active).toBe(false);
    expect(queue.buffered).toBe(0);
  });

  it('holds back a partial frame until the response ends (the synthesizer is behind)', () => {
    const queue = new OutputAudioQueue({ frameSamples: FRAME, maxBufferedSamples: 48_000 * 60 });
    // Half a frame plus the filter's delay plus 100 samples at 24 kHz: one frame and 200 samples at 48 kHz
    // come out before the end; the filter's tail comes with the end.
    const delay = new StreamingResampler(24_000, 48_000).latencyInputSamples;
    queue.write('resp_1', 'item_1', voice24k(FRAME / 2 + delay + 100, 3));
    expect(queue.takeFrame()).not.toBeNull();
    expect(queue.takeFrame()).toBeNull(); // less than a frame left, and more may come
    expect(queue.active).toBe(true);
    queue.end('resp_1');
    const rest = takeAll(queue);
    expect(rest.frames).toBe(1);
    expect(rest.lastFlags).toEqual([true]);
  });

  it('keeps the bound in 48 kHz samples and drops the rest of the write', () => {
    const queue = new OutputAudioQueue({ frameSamples: FRAME, maxBufferedSamples: 48_000 });
    expect(queue.write('resp_1', 'item_1', voice24k(18_000, 1))).toBe(0);
    expect(queue.write('resp_1', 'item_1', voice24k(12_000, 1))).toBe(12_000); // 6,000 of 12,000 kept
    expect(queue.bufferedMs).toBe(1_000);
  });

  it('a flush before anything was taken names the written item with 0 ms played', () => {
    const queue = new OutputAudioQueue({ frameSamples: FRAME, maxBufferedSamples: 48_000 * 60 });
    queue.write('resp_1', 'item_1', voice24k(4_800, 1));
    expect(queue.clear()).toEqual({ responseId: 'resp_1', itemId: 'item_1', playedMs: 0 });
    expect(queue.write('resp_1', 'item_1', voice24k(4_800, 1))).toBe(0); // late write of a flushed response
    expect(queue.active).toBe(false);
  });
});
