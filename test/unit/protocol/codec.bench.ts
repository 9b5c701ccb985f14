// Cost of the protocol edge on large and typical frames. Not part of `vitest run` (benchmarks never gate
// tests); run with `npx vitest bench --run test/unit/protocol`.
import { bench, describe } from 'vitest';
import { decodeBase64Audio, decodeClientEvent } from '../../../src/protocol/index.ts';

const pcmBytes = new Uint8Array(3 * 1024 * 1024); // 65.5 s of 24 kHz PCM16 -> 4 MiB of base64
for (let i = 0; i < pcmBytes.length; i++) pcmBytes[i] = (i * 7919) & 0xff;
const audio4MiB = Buffer.from(pcmBytes).toString('base64');
const append4MiB = JSON.stringify({ type: 'input_audio_buffer.append', event_id: 'e', audio: audio4MiB });
const audio20ms = Buffer.from(pcmBytes.subarray(0, 960)).toString('base64');
const append20ms = JSON.stringify({ type: 'input_audio_buffer.append', audio: audio20ms });
const sessionUpdate = JSON.stringify({
  type: 'session.update',
  session: {
    type: 'realtime',
    instructions: 'You are a helpful travel assistant.',
    output_modalities: ['text'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        noise_reduction: null,
        transcription: { model: 'gpt-4o-mini-transcribe' },
        turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
      },
    },
    tool_choice: 'auto',
    tools: [
      {
        type: 'function',
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ],
  },
});

describe('decode 4 MiB append', () => {
  bench('decodeClientEvent (JSON.parse + schema)', () => {
    decodeClientEvent(append4MiB);
  });
  bench('decodeBase64Audio (validate + decode)', () => {
    decodeBase64Audio(audio4MiB);
  });
  bench('Buffer.from(base64) for reference (no validation)', () => {
    Buffer.from(audio4MiB, 'base64');
  });
});

describe('decode typical frames', () => {
  bench('20 ms append: decodeClientEvent + decodeBase64Audio', () => {
    const result = decodeClientEvent(append20ms);
    if (result.ok && result.event.type === 'input_audio_buffer.append') decodeBase64Audio(result.event.audio);
  });
  bench('session.update', () => {
    decodeClientEvent(sessionUpdate);
  });
});
