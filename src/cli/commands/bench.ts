import type { Command } from 'commander';
import { loadBenchSpeech16k } from '../../bench/bench_audio.ts';
import { benchCapacity } from '../../bench/capacity_bench.ts';
import { benchEphemeralKeys } from '../../bench/ephemeral_keys_bench.ts';
import { benchFairness } from '../../bench/fairness_bench.ts';
import { benchIngest } from '../../bench/ingest_bench.ts';
import { runIngestClients } from '../../bench/ingest_clients.ts';
import { benchVad } from '../../bench/vad_bench.ts';
import { registerBenchVadAccuracyCommand } from './bench_vad_accuracy.ts';
import { benchFeatures } from '../../bench/features_bench.ts';
import { numberFlag, positiveIntFlag, reportCliError } from '../cli_config.ts';
import { registerBenchEngineCommand } from './bench_engine.ts';
import { registerBenchServerCommand } from './bench_server.ts';
import { registerBenchChatPrefixCommand } from './bench_chat_prefix.ts';
import { registerBenchSoakCommand } from './bench_soak.ts';
import { registerBenchTtsCommand } from './bench_tts.ts';
import { registerBenchComponentCommands } from './bench_components.ts';
import { printBenchResult as print } from './bench_print.ts';

export function registerBenchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description(
      'Benchmarks (figures, not tests): vad, vad-accuracy, ingest, engine, server, capacity, soak, tts, features, webrtc, vad-batching, codec',
    );

  registerBenchCapacityCommands(bench);
  bench
    .command('vad')
    .description('In-process cost of Silero VAD + segmentation per 32 ms window on real speech')
    .option('--json', 'print JSON {"window_ms_p50","window_ms_p99","rtf",...}')
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .action(async (opts: { json?: boolean; audio?: string }) => {
      try {
        print(await benchVad(await loadBenchSpeech16k(opts.audio)), opts.json, 'VAD + segmentation cost per window');
      } catch (err) {
        reportCliError(err);
      }
    });

  bench
    .command('ingest')
    .description(
      'N WebSocket clients (separate process) stream real speech at real-time pace; speech_stopped lag and server CPU',
    )
    .option('--json', 'print JSON {"clients","lag_ms_p50","lag_ms_p99","errors","server_cpu_pct",...}')
    .option('--clients <n>', 'concurrent clients', numberFlag, 10)
    .option('--seconds <s>', 'streaming time per client', numberFlag, 30)
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .action(async (opts: { json?: boolean; clients: number; seconds: number; audio?: string }) => {
      try {
        const result = await benchIngest({
          clients: positiveIntFlag('clients', opts.clients),
          seconds: positiveIntFlag('seconds', opts.seconds),
          audio: opts.audio,
        });
        print(result, opts.json, 'Ingest: speech_stopped lag (ms) and server cost');
      } catch (err) {
        reportCliError(err);
      }
    });

  bench
    .command('fairness')
    .description(
      "Another key's response latency while one client floods the engine with huge text items (one 4 MB item, then 100 x 1 MB)",
    )
    .option('--json', 'print JSON {"quiet","one_4mb_item","hundred_1mb_items"} with latency_ms_p50/p99 each')
    .option('--seconds <s>', 'longest a flood scenario is measured', numberFlag, 20)
    .option('--unbounded', 'raise the per-connection text bounds so the flood reaches the engine')
    .action(async (opts: { json?: boolean; seconds: number; unbounded?: boolean }) => {
      try {
        const progress = (m: string) => process.stderr.write(`${m}\n`);
        print(
          await benchFairness({
            seconds: positiveIntFlag('seconds', opts.seconds),
            unbounded: opts.unbounded,
            progress,
          }),
          opts.json,
          "Fairness: another key's response latency (ms) under a text flood",
        );
      } catch (err) {
        reportCliError(err);
      }
    });

  // Internal: the client side of `bench ingest`, run in its own process.
  bench
    .command('ingest-clients', { hidden: true })
    .requiredOption('--url <url>')
    .option('--clients <n>', '', numberFlag, 10)
    .option('--seconds <s>', '', numberFlag, 30)
    .option('--audio <file>')
    .action(async (opts: { url: string; clients: number; seconds: number; audio?: string }) => {
      const speech16k = await loadBenchSpeech16k(opts.audio);
      const result = await runIngestClients({ url: opts.url, clients: opts.clients, seconds: opts.seconds, speech16k });
      process.stdout.write(JSON.stringify(result));
    });

  registerBenchVadAccuracyCommand(bench);
  registerBenchEngineCommand(bench);
  registerBenchServerCommand(bench);
  registerBenchChatPrefixCommand(bench);
  registerBenchSoakCommand(bench);
  registerBenchTtsCommand(bench);
  registerBenchComponentCommands(bench);

  bench
    .command('features')
    .description('Phi-4 log-mel feature extraction time for 40 s of 16 kHz audio')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      print(await benchFeatures(), opts.json, 'Phi-4 audio features (40 s of audio)');
    });
}

/** `bench capacity` and `bench ephemeral-keys`: how much this machine holds. */
function registerBenchCapacityCommands(bench: Command): void {
  bench
    .command('capacity')
    .description(
      "Sweep of `bench server` runs: the largest session count holding lag p99 under the target, beside bench vad's realtime_streams (same run) and their ratio",
    )
    .option('--json', 'print JSON {"target_lag_ms","sessions","realtime_streams","ratio","steps",...}')
    .option('--target-ms <ms>', 'lag p99 each session count must hold', numberFlag, 200)
    .option('--seconds <s>', 'streaming time of each sweep step', numberFlag, 20)
    .option('--start <n>', 'first session count tried (then doubled until one fails, then bisected)', numberFlag, 25)
    .option('--max <n>', 'largest session count considered', numberFlag, 400)
    .option('--resolution <n>', 'stop bisecting when the bracket is this narrow', numberFlag, 10)
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .action(
      async (opts: {
        json?: boolean;
        targetMs: number;
        seconds: number;
        start: number;
        max: number;
        resolution: number;
        audio?: string;
      }) => {
        try {
          const result = await benchCapacity({
            targetLagMs: opts.targetMs,
            seconds: positiveIntFlag('seconds', opts.seconds),
            startClients: positiveIntFlag('start', opts.start),
            maxClients: positiveIntFlag('max', opts.max),
            resolution: positiveIntFlag('resolution', opts.resolution),
            audio: opts.audio,
            progress: opts.json ? undefined : (m) => process.stderr.write(`… ${m}\n`),
          });
          print(result, opts.json, 'Capacity: sessions holding the lag target, beside the Silero throughput');
        } catch (err) {
          reportCliError(err);
        }
      },
    );

  bench
    .command('ephemeral-keys')
    .description(
      'Memory held by ephemeral keys minted through POST /v1/realtime/client_secrets with the largest allowed preset',
    )
    .option('--json', 'print JSON {"requested","minted","refused","heap_mb_delta","accounted_mb",...}')
    .option('--keys <n>', 'mint requests in all', numberFlag, 10_000)
    .option('--api-keys <n>', 'API keys the requests are spread over', numberFlag, 10)
    .action(async (opts: { json?: boolean; keys: number; apiKeys: number }) => {
      try {
        const result = await benchEphemeralKeys({
          keys: positiveIntFlag('keys', opts.keys),
          apiKeys: positiveIntFlag('api-keys', opts.apiKeys),
        });
        print(result, opts.json, 'Ephemeral keys: memory held with the largest preset');
      } catch (err) {
        reportCliError(err);
      }
    });
}
