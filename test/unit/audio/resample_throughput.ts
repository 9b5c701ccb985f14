// Throughput benchmark for the streaming resampler (a command, not a test: timings depend on the machine).
// Run: npx tsx test/unit/audio/resample_throughput.ts
// Prints, per kernel (scalar float64 JavaScript, WebAssembly SIMD) and input rate, how many seconds of audio one CPU core resamples to 16 kHz per second, pushing
// 20 ms chunks the way a live stream does.
import { type ResamplerKernel, StreamingResampler, SUPPORTED_INPUT_RATES_HZ } from '../../../src/audio/resample.ts';

const AUDIO_SECONDS = 60;
const CHUNK_MS = 20;

function noise(samples: number): Float32Array {
  const out = new Float32Array(samples);
  let seed = 12345;
  for (let i = 0; i < samples; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = (seed / 2 ** 32 - 0.5) * 0.5;
  }
  return out;
}

for (const kernel of ['scalar', 'simd'] as ResamplerKernel[])
  for (const rateHz of SUPPORTED_INPUT_RATES_HZ) {
    const input = noise(rateHz * AUDIO_SECONDS);
    const chunkSamples = (rateHz * CHUNK_MS) / 1000;
    const run = (): number => {
      const resampler = new StreamingResampler(rateHz, 16_000, kernel);
      let produced = 0;
      for (let offset = 0; offset < input.length; offset += chunkSamples) {
        produced += resampler.push(input.subarray(offset, offset + chunkSamples)).length;
      }
      return produced + resampler.flush().length;
    };
    run(); // warm-up: JIT and filter table
    const cpuStart = process.cpuUsage();
    const produced = run();
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const speed = AUDIO_SECONDS / cpuSeconds;
    console.log(
      `${kernel.padEnd(6)} ${String(rateHz).padStart(5)} Hz -> 16 kHz: ${produced} samples, ${cpuSeconds.toFixed(3)} s CPU, ` +
        `${speed.toFixed(0)} s of audio per CPU second (${((100 * 1) / speed).toFixed(2)} % of a core per live stream)`,
    );
  }
