// `earshot bench webrtc`, `bench vad-batching` and `bench codec`: costs of single components (call setup,
// Opus decoding, Silero batching, the protocol edge), each a function of src/bench/ printing its figures.
import type { Command } from 'commander';
import { benchCodec } from '../../bench/codec_bench.ts';
import { benchResample } from '../../bench/resample_bench.ts';
import { benchVadBatching } from '../../bench/vad_batching_bench.ts';
import { benchWebrtc } from '../../bench/webrtc_bench.ts';
import { numberFlag, positiveIntFlag, reportCliError } from '../cli_config.ts';
import { printBenchResult } from './bench_print.ts';

const print = (result: object, json: boolean | undefined, title: string) => printBenchResult(result, json, title, 32);

export function registerBenchComponentCommands(bench: Command): void {
  bench
    .command('resample')
    .description(
      'Streaming resampler throughput per kernel (scalar, WebAssembly SIMD) and input rate, to 16 kHz in 20 ms chunks',
    )
    .option(
      '--json',
      'print JSON {"audio_seconds","rows":[{"kernel","input_rate_hz","audio_s_per_cpu_s","core_pct_per_stream"}]}',
    )
    .option('--seconds <s>', 'seconds of audio resampled per row', numberFlag, 60)
    .action((opts: { json?: boolean; seconds: number }) => {
      try {
        const result = benchResample({ audioSeconds: positiveIntFlag('seconds', opts.seconds) });
        if (opts.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
        process.stdout.write('Resampler: seconds of audio per CPU second (% of a core per live stream)\n');
        for (const r of result.rows)
          process.stdout.write(
            `  ${r.kernel.padEnd(6)} ${String(r.input_rate_hz).padStart(5)} Hz: ${r.audio_s_per_cpu_s} (${r.core_pct_per_stream} %)\n`,
          );
      } catch (err) {
        reportCliError(err);
      }
    });
  bench
    .command('webrtc')
    .description('Offer-to-connected time of WebRTC calls on 127.0.0.1, and the cost of decoding 20 ms Opus packets')
    .option(
      '--json',
      'print JSON {"calls","answer_ms_p50","connect_ms_p50","client_session_created_ms_p50",...,"opus_decode"}',
    )
    .option('--calls <n>', 'calls measured, one at a time (after 2 warm-up calls)', numberFlag, 10)
    .option('--rounds <n>', 'times each Opus packet is decoded', numberFlag, 20)
    .option('--seconds <s>', 'seconds of speech encoded to Opus', numberFlag, 20)
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .action(async (opts: { json?: boolean; calls: number; rounds: number; seconds: number; audio?: string }) => {
      try {
        const result = await benchWebrtc({
          calls: positiveIntFlag('calls', opts.calls),
          decodeRounds: positiveIntFlag('rounds', opts.rounds),
          seconds: positiveIntFlag('seconds', opts.seconds),
          audio: opts.audio,
        });
        print(result, opts.json, 'WebRTC: call setup (ms) and Opus decoding (us per 20 ms packet)');
      } catch (err) {
        reportCliError(err);
      }
      // werift keeps timers of closed peer connections alive in this process (the peer runs in-process
      // here), so the event loop would never drain: end once the figures are written.
      process.exit();
    });

  bench
    .command('vad-batching')
    .description(
      'Silero cost per 32 ms tick run window by window, batched [B,512], and through VadBatcher, for 8/64/100 streams',
    )
    .option('--json', 'print JSON {"ticks","one_run_per_window","one_batched_run_per_tick","through_vad_batcher"}')
    .option('--ticks <n>', '32 ms ticks per measurement', numberFlag, 200)
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .action(async (opts: { json?: boolean; ticks: number; audio?: string }) => {
      try {
        const result = await benchVadBatching({ ticks: positiveIntFlag('ticks', opts.ticks), audio: opts.audio });
        print(result, opts.json, 'Silero batching: median tick time (ms) per stream count');
      } catch (err) {
        reportCliError(err);
      }
    });

  bench
    .command('codec')
    .description('Cost of decoding client events (4 MiB and 20 ms appends, session.update): p50/p99 us per event')
    .option('--json', 'print JSON {"<case>": {"iterations","us_p50","us_p99"}, ...}')
    .option('--iterations <n>', 'timed iterations per typical case (the 4 MiB cases run a tenth)', numberFlag, 2000)
    .action((opts: { json?: boolean; iterations: number }) => {
      try {
        const result = benchCodec({ iterations: positiveIntFlag('iterations', opts.iterations) });
        print(result, opts.json, 'Protocol edge: us per client event');
      } catch (err) {
        reportCliError(err);
      }
    });
}
