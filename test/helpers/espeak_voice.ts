import { spawn } from 'node:child_process';
import type { PcmChunk, SynthesisRequest, Synthesizer } from '../../src/tts/synthesizer.ts';

// A minimal real espeak-ng voice for the Kokoro fallback tests (the product's espeak synthesizer lives on the
// tts-engines branch): `espeak-ng --stdout` writes a 44-byte WAV header, then 22,050 Hz s16le as it goes.

const WAV_HEADER_BYTES = 44;
export const ESPEAK_RATE_HZ = 22_050;

export class TestEspeakVoice implements Synthesizer {
  readonly name = 'espeak' as const;
  readonly requests: string[] = [];

  voices(): readonly string[] {
    return ['en-us'];
  }

  async *synthesize(request: SynthesisRequest): AsyncGenerator<PcmChunk> {
    this.requests.push(request.text);
    const child = spawn('espeak-ng', ['-v', 'en-us', '--stdout', '--stdin'], { signal: request.signal, stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', () => undefined);
    child.stdin.end(request.text);
    let skip = WAV_HEADER_BYTES;
    let carry: Buffer = Buffer.alloc(0);
    for await (const data of child.stdout as AsyncIterable<Buffer>) {
      let bytes = Buffer.concat([carry, data]);
      const dropped = Math.min(skip, bytes.length);
      bytes = bytes.subarray(dropped);
      skip -= dropped;
      const even = bytes.length & ~1;
      carry = Buffer.from(bytes.subarray(even));
      if (even === 0) continue;
      const aligned = Buffer.from(bytes.subarray(0, even));
      yield { pcm: new Int16Array(aligned.buffer, aligned.byteOffset, even / 2), sampleRateHz: ESPEAK_RATE_HZ };
    }
  }

  async close(): Promise<void> {}
}
