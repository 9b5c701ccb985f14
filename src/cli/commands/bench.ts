import { type Command, Option } from 'commander';
import { loadBenchSpeech16k } from '../../bench/bench_audio.ts';
import { benchCapacity } from '../../bench/capacity_bench.ts';
import { benchEphemeralKeys } from '../../bench/ephemeral_keys_bench.ts';
import { benchFairness } from '../../bench/fairness_bench.ts';
import { benchIngest } from '../../bench/ingest_bench.ts';
import { runIngestClients } from '../../bench/ingest_clients.ts';
import { benchVad } from '../../bench/vad_bench.ts';
import { registerBenchVadAccuracyCommand } from './bench_vad_accuracy.ts';
import { benchFeatures } from '../../bench/features_bench.ts';
import { numberFlag } from '../cli_config.ts';
import { registerBenchEngineCommand } from './bench_engine.ts';
import { registerBenchServerCommand } from './bench_server.ts';
import { registerBenchChatPrefixCommand } from './bench_chat_prefix.ts';
import { registerBenchSoakCommand } from './bench_soak.ts';
import { registerBenchTtsCommand } from './bench_tts.ts';
import { registerBenchComponentCommands } from './bench_components.ts';
import { audioOption, numberOption, registerBench, sizeOption, stderrProgress } from './bench_command.ts';

export function registerBenchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description(
      'Benchmarks (figures, not tests): vad, vad-accuracy, ingest, engine, server, capacity, soak, tts, features, webrtc, vad-batching, codec',
    );

  registerBenchCapacityCommands(bench);
  registerBench(bench, {
    name: 'vad',
    description: 'In-process cost of Silero VAD + segmentation per 32 ms window on real speech',
    json: 'print JSON {"window_ms_p50","window_ms_p99","rtf",...}',
    options: [audioOption()],
    run: async (opts: { audio?: string }) => benchVad(await loadBenchSpeech16k(opts.audio)),
    print: 'VAD + segmentation cost per window',
  });

  registerBench(bench, {
    name: 'ingest',
    description:
      'N WebSocket clients (separate process) stream real speech at real-time pace; speech_stopped lag and server CPU',
    json: 'print JSON {"clients","lag_ms_p50","lag_ms_p99","errors","server_cpu_pct",...}',
    options: [
      sizeOption('--clients <n>', 'concurrent clients', 10),
      sizeOption('--seconds <s>', 'streaming time per client', 30),
      audioOption(),
    ],
    run: (opts: { clients: number; seconds: number; audio?: string }) =>
      benchIngest({ clients: opts.clients, seconds: opts.seconds, audio: opts.audio }),
    print: 'Ingest: speech_stopped lag (ms) and server cost',
  });

  registerBench(bench, {
    name: 'fairness',
    description:
      "Another key's response latency while one client floods the engine with huge text items (one 4 MB item, then 100 x 1 MB)",
    json: 'print JSON {"quiet","one_4mb_item","hundred_1mb_items"} with latency_ms_p50/p99 each',
    options: [
      sizeOption('--seconds <s>', 'longest a flood scenario is measured', 20),
      new Option('--unbounded', 'raise the per-connection text bounds so the flood reaches the engine'),
    ],
    run: (opts: { seconds: number; unbounded?: boolean }) =>
      benchFairness({
        seconds: opts.seconds,
        unbounded: opts.unbounded,
        progress: (m: string) => process.stderr.write(`${m}\n`),
      }),
    print: "Fairness: another key's response latency (ms) under a text flood",
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

  registerBench(bench, {
    name: 'features',
    description: 'Phi-4 log-mel feature extraction time for 40 s of 16 kHz audio',
    json: 'print JSON',
    run: () => benchFeatures(),
    print: 'Phi-4 audio features (40 s of audio)',
  });
}

/** `bench capacity` and `bench ephemeral-keys`: how much this machine holds. */
function registerBenchCapacityCommands(bench: Command): void {
  registerBench(bench, {
    name: 'capacity',
    description:
      "Sweep of `bench server` runs: the largest session count holding lag p99 under the target, beside bench vad's realtime_streams (same run) and their ratio",
    json: 'print JSON {"target_lag_ms","sessions","realtime_streams","ratio","steps",...}',
    options: [
      numberOption('--target-ms <ms>', 'lag p99 each session count must hold', 200),
      sizeOption('--seconds <s>', 'streaming time of each sweep step', 20),
      sizeOption('--start <n>', 'first session count tried (then doubled until one fails, then bisected)', 25),
      sizeOption('--max <n>', 'largest session count considered', 400),
      sizeOption('--resolution <n>', 'stop bisecting when the bracket is this narrow', 10),
      audioOption(),
    ],
    run: (opts: {
      json?: boolean;
      targetMs: number;
      seconds: number;
      start: number;
      max: number;
      resolution: number;
      audio?: string;
    }) =>
      benchCapacity({
        targetLagMs: opts.targetMs,
        seconds: opts.seconds,
        startClients: opts.start,
        maxClients: opts.max,
        resolution: opts.resolution,
        audio: opts.audio,
        progress: opts.json ? undefined : stderrProgress,
      }),
    print: 'Capacity: sessions holding the lag target, beside the Silero throughput',
  });

  registerBench(bench, {
    name: 'ephemeral-keys',
    description:
      'Memory held by ephemeral keys minted through POST /v1/realtime/client_secrets with the largest allowed preset',
    json: 'print JSON {"requested","minted","refused","heap_mb_delta","accounted_mb",...}',
    options: [
      sizeOption('--keys <n>', 'mint requests in all', 10_000),
      sizeOption('--api-keys <n>', 'API keys the requests are spread over', 10),
    ],
    run: (opts: { keys: number; apiKeys: number }) => benchEphemeralKeys({ keys: opts.keys, apiKeys: opts.apiKeys }),
    print: 'Ephemeral keys: memory held with the largest preset',
  });
}
