// 24 kHz speech -> the session's output format. audio/pcm is 24 kHz s16le as it is; audio/pcmu and
// audio/pcma are 8 kHz G.711, resampled with one streaming resampler per answer so that chunk edges add no
// clicks (and byte counts add up: 8000 bytes per second of speech, whatever the chunking).
import { encodeALaw, encodeMuLaw } from '../audio/g711.ts';
import { int16ToFloat32 } from '../audio/pcm.ts';
import { StreamingResampler } from '../audio/resample.ts';
import { SPEECH_OUTPUT_RATE_HZ } from './synthesizer.ts';

export type SpeechOutputFormat = 'audio/pcm' | 'audio/pcmu' | 'audio/pcma';

export const G711_RATE_HZ = 8000;

/** Bytes one second of speech takes on the wire in each format. */
export const OUTPUT_BYTES_PER_SECOND: Record<SpeechOutputFormat, number> = {
  'audio/pcm': SPEECH_OUTPUT_RATE_HZ * 2,
  'audio/pcmu': G711_RATE_HZ,
  'audio/pcma': G711_RATE_HZ,
};

export interface SpeechEncoder {
  readonly format: SpeechOutputFormat;
  /** Encodes the next 24 kHz chunk; may return fewer bytes than the chunk's duration (resampler look-ahead). */
  push(pcm24k: Int16Array): Uint8Array;
  /** End of the answer: the remaining bytes. The encoder can then start a new answer. */
  flush(): Uint8Array;
}

/** s16 samples as little-endian bytes (a copy, independent of the host's byte order). */
export function int16ToLittleEndianBytes(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
  return out;
}

class PcmEncoder implements SpeechEncoder {
  readonly format = 'audio/pcm' as const;
  push(pcm24k: Int16Array): Uint8Array {
    return int16ToLittleEndianBytes(pcm24k);
  }
  flush(): Uint8Array {
    return new Uint8Array(0);
  }
}

class G711Encoder implements SpeechEncoder {
  readonly format: 'audio/pcmu' | 'audio/pcma';
  private readonly resampler = new StreamingResampler(SPEECH_OUTPUT_RATE_HZ, G711_RATE_HZ);
  private readonly encode: (samples: Float32Array) => Uint8Array;

  constructor(format: 'audio/pcmu' | 'audio/pcma') {
    this.format = format;
    this.encode = format === 'audio/pcmu' ? encodeMuLaw : encodeALaw;
  }
  push(pcm24k: Int16Array): Uint8Array {
    return this.encode(this.resampler.push(int16ToFloat32(pcm24k)));
  }
  flush(): Uint8Array {
    return this.encode(this.resampler.flush());
  }
}

/** A stateful encoder for one answer's audio in the given format. */
export function createSpeechEncoder(format: SpeechOutputFormat): SpeechEncoder {
  return format === 'audio/pcm' ? new PcmEncoder() : new G711Encoder(format);
}
