import { decodeALaw, decodeMuLaw } from '../audio/g711.ts';
import { pcm16BytesToFloat32 } from '../audio/pcm.ts';
import { ReusableArray } from '../audio/reusable_array.ts';
import { StreamingResampler, SUPPORTED_INPUT_RATES_HZ } from '../audio/resample.ts';
import { EarshotError } from '../errors.ts';
import type { ItemAudioClip } from '../agent/agent_runtime.ts';
import { decodeBase64Audio } from '../protocol/base64.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';

/** The session's input audio format, as resolved from session.update. */
export type InputAudioFormat = { type: 'audio/pcm'; rateHz: number } | { type: 'audio/pcmu' } | { type: 'audio/pcma' };

export const DEFAULT_INPUT_FORMAT: InputAudioFormat = { type: 'audio/pcm', rateHz: 24_000 };
const G711_RATE_HZ = 8_000;

export function formatRateHz(format: InputAudioFormat): number {
  return format.type === 'audio/pcm' ? format.rateHz : G711_RATE_HZ;
}

export function validatePcmRate(rateHz: number): void {
  if (!SUPPORTED_INPUT_RATES_HZ.includes(rateHz)) {
    throw new EarshotError(
      'E_UNSUPPORTED_FORMAT',
      `audio/pcm at ${rateHz} Hz is not supported; use one of ${SUPPORTED_INPUT_RATES_HZ.join(', ')} Hz`,
      { param: 'session.audio.input.format.rate' },
    );
  }
}

/**
 * Decodes one connection's input audio bytes and brings them to the 16 kHz pipeline rate. The resampler
 * is streaming and chunk-invariant, so the sample clock (and every timestamp) is independent of how the
 * client chunks its audio. 8 kHz telephony audio is also passed on unresampled for the model's 8 kHz path.
 */
export class InputAudioDecoder {
  private readonly resampler: StreamingResampler;
  /** PCM samples at the source rate: push() copies them (into the resampler, or a slice at 16 kHz). */
  private readonly pcmScratch = new ReusableArray((n) => new Float32Array(n));
  readonly format: InputAudioFormat;
  readonly sourceRateHz: number;

  constructor(format: InputAudioFormat) {
    if (format.type === 'audio/pcm') validatePcmRate(format.rateHz);
    this.format = format;
    this.sourceRateHz = formatRateHz(format);
    this.resampler = new StreamingResampler(this.sourceRateHz, 16_000);
  }

  /**
   * Source-rate float samples for the bytes; throws E_ODD_PCM_BYTES for a broken PCM16 payload. For PCM
   * they are valid until the next decode (pass them to push() first); G.711 samples are a fresh array,
   * since push() hands them on as the 8 kHz copy.
   */
  decode(bytes: Uint8Array): Float32Array {
    switch (this.format.type) {
      case 'audio/pcm':
        return pcm16BytesToFloat32(bytes, (n) => this.pcmScratch.take(n));
      case 'audio/pcmu':
        return decodeMuLaw(bytes);
      case 'audio/pcma':
        return decodeALaw(bytes);
    }
  }

  /** Samples at 16 kHz that are final after this input (and the 8 kHz source for telephony formats). */
  push(source: Float32Array): { samples16k: Float32Array; samples8k?: Float32Array } {
    const samples16k = this.resampler.push(source);
    return this.sourceRateHz === G711_RATE_HZ ? { samples16k, samples8k: source } : { samples16k };
  }

  /** The resampler's tail at a format change or end of stream. */
  flush(): Float32Array {
    return this.resampler.flush();
  }
}

/** Milliseconds of source audio in `byteLength` bytes of this format (for backlog accounting). */
export function bytesToMs(format: InputAudioFormat, byteLength: number): number {
  const bytesPerSample = format.type === 'audio/pcm' ? 2 : 1;
  return (byteLength / bytesPerSample / formatRateHz(format)) * 1000;
}

/**
 * The audio of a conversation.item.create message's input_audio parts (base64 in the session's input
 * format), decoded to 16 kHz (and kept at 8 kHz for G.711). Throws E_INVALID_BASE64 / E_ODD_PCM_BYTES
 * with the part's param.
 */
export function decodeItemAudio(item: WireConversationItem, format: InputAudioFormat): ItemAudioClip[] {
  if (item.type !== 'message') return [];
  const clips: ItemAudioClip[] = [];
  item.content.forEach((part, contentIndex) => {
    if (part.type !== 'input_audio' || typeof part.audio !== 'string' || part.audio === '') return;
    const param = `item.content[${contentIndex}].audio`;
    const decoded = decodeBase64Audio(part.audio);
    if (!decoded.ok) throw new EarshotError(decoded.code, decoded.message, { param });
    const decoder = new InputAudioDecoder(format);
    let source: Float32Array;
    try {
      source = decoder.decode(decoded.bytes);
    } catch (err) {
      if (err instanceof EarshotError) throw new EarshotError(err.code, err.message, { param });
      throw err;
    }
    const { samples16k } = decoder.push(source);
    const tail = decoder.flush();
    const all = new Float32Array(samples16k.length + tail.length);
    all.set(samples16k);
    all.set(tail, samples16k.length);
    clips.push({
      contentIndex,
      samples16k: all,
      ...(decoder.sourceRateHz === G711_RATE_HZ ? { samples8k: source } : {}),
    });
  });
  return clips;
}
