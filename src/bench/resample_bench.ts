// Throughput of the streaming resampler: per kernel (scalar float64 JavaScript, WebAssembly SIMD) and
// input rate, how many seconds of audio one CPU core resamples to 16 kHz per second, pushing 20 ms chunks
// the way a live stream does. CPU time (process.cpuUsage), not wall time, so other load matters less.
import { type ResamplerKernel, StreamingResampler, SUPPORTED_INPUT_RATES_HZ } from '../audio/resample.ts';
import { seededRandom } from './accuracy/noise.ts';
import { round } from './stats.ts';

const CHUNK_MS = 20;

export interface ResampleRow {
  kernel: ResamplerKernel;
  input_rate_hz: number;
  /** Seconds of audio resampled per CPU second. */
  audio_s_per_cpu_s: number;
  /** Share of one core a live stream at this rate costs. */
  core_pct_per_stream: number;
}

function noise(samples: number): Float32Array {
  const random = seededRandom(12345);
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = (random() - 0.5) * 0.5;
  return out;
}

function resampleAll(input: Float32Array, rateHz: number, kernel: ResamplerKernel): number {
  const chunkSamples = (rateHz * CHUNK_MS) / 1000;
  const resampler = new StreamingResampler(rateHz, 16_000, kernel);
  let produced = 0;
  for (let offset = 0; offset < input.length; offset += chunkSamples) {
    produced += resampler.push(input.subarray(offset, offset + chunkSamples)).length;
  }
  return produced + resampler.flush().length;
}

export function benchResample(opts: { audioSeconds?: number } = {}): { audio_seconds: number; rows: ResampleRow[] } {
  const audioSeconds = opts.audioSeconds ?? 60;
  const rows: ResampleRow[] = [];
  for (const kernel of ['scalar', 'simd'] as ResamplerKernel[])
    for (const rateHz of SUPPORTED_INPUT_RATES_HZ) {
      const input = noise(rateHz * audioSeconds);
      resampleAll(input, rateHz, kernel); // warm-up: JIT and filter table
      const cpuStart = process.cpuUsage();
      resampleAll(input, rateHz, kernel);
      const cpu = process.cpuUsage(cpuStart);
      // At least one microsecond of CPU: a 16 kHz passthrough can finish within the clock's resolution.
      const speed = audioSeconds / Math.max((cpu.user + cpu.system) / 1e6, 1e-6);
      rows.push({
        kernel,
        input_rate_hz: rateHz,
        audio_s_per_cpu_s: round(speed, 0),
        core_pct_per_stream: round(100 / speed, 6),
      });
    }
  return { audio_seconds: audioSeconds, rows };
}
