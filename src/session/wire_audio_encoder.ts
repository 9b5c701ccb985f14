// 24 kHz PCM of a spoken answer -> the bytes of `response.output_audio.delta` in the session's output
// format: audio/pcm is 24 kHz PCM16 little-endian as is (48,000 bytes per second); audio/pcmu and
// audio/pcma are resampled to 8 kHz (anti-aliased, streaming) and G.711-coded (8,000 bytes per second).
import { encodeALaw, encodeMuLaw } from '../audio/g711.ts';
import { int16ToFloat32 } from '../audio/pcm.ts';
import { StreamingResampler } from '../audio/resample.ts';
import type { AudioWireEncoder } from '../agent/spoken_answer.ts';
import type { AudioFormat } from '../protocol/server_session.ts';
import { SPEECH_OUTPUT_RATE_HZ } from '../tts/synthesizer.ts';

const G711_RATE_HZ = 8000;

export function wireAudioEncoder(format: AudioFormat): AudioWireEncoder {
  if (format.type === 'audio/pcm') {
    return {
      encode: (pcm) => pcm16LeBytes(pcm),
      flush: () => new Uint8Array(0),
    };
  }
  const resampler = new StreamingResampler(SPEECH_OUTPUT_RATE_HZ, G711_RATE_HZ);
  const code = format.type === 'audio/pcmu' ? encodeMuLaw : encodeALaw;
  return {
    encode: (pcm) => code(resampler.push(int16ToFloat32(pcm))),
    flush: () => code(resampler.flush()),
  };
}

function pcm16LeBytes(pcm: Int16Array): Uint8Array {
  const bytes = new Uint8Array(pcm.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i], true);
  return bytes;
}
