import { describe, expect, it } from 'vitest';
import { audioMsOf, heardTranscript, type SpokenRecord } from '../../../src/agent/spoken_record.ts';

// The truncation rule: whole pieces whose audio ended by audio_end_ms, then the share of the playing
// piece's characters equal to the share of its audio played, rounded down to whole words.

const S = 24; // samples per ms at 24 kHz
const record: SpokenRecord = {
  transcript: 'Hello there. The weather is sunny today, and warm.',
  samples24k: 3000 * S,
  pieces: [
    { text: 'Hello there.', samples: 1000 * S },
    { text: 'The weather is sunny today, and warm.', samples: 2000 * S },
  ],
};

describe('heardTranscript', () => {
  it('keeps whole pieces whose audio ended', () => {
    expect(heardTranscript(record, 1000)).toBe('Hello there.');
    expect(heardTranscript(record, 3000)).toBe(record.transcript);
    expect(audioMsOf(record)).toBe(3000);
  });

  it('keeps the words of the playing piece in proportion to its audio played, never a cut word', () => {
    // 1000 ms into a 2000 ms piece of 37 characters: 18 characters, "The weather is sun" -> "The weather is".
    expect(heardTranscript(record, 2000)).toBe('Hello there. The weather is');
    expect(heardTranscript(record, 1010)).toBe('Hello there.');
    expect(heardTranscript(record, 0)).toBe('');
  });

  it('without pieces, or pieces not found in the transcript, the whole answer is one piece', () => {
    const plain = { ...record, pieces: [] };
    // 1500 of 3000 ms: 25 of 50 characters, "Hello there. The weather " -> ends after "weather".
    expect(heardTranscript(plain, 1500)).toBe('Hello there. The weather');
    const cleaned = { ...record, pieces: [{ text: 'Hello **there**.', samples: 1000 * S }, record.pieces[1]] };
    expect(heardTranscript(cleaned, 1500)).toBe('Hello there. The weather');
  });
});
