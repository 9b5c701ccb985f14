import type { Command } from 'commander';
import { CLIENT_AUDIO_FORMATS, type ClientAudioFormat } from '../../bench/ingest_clients.ts';
import { benchAdmission } from '../../bench/admission_bench.ts';
import { benchServer } from '../../bench/server_bench.ts';
import { EarshotError } from '../../errors.ts';
import { numberFlag, positiveIntFlag, reportCliError } from '../cli_config.ts';

/** The JSON the issue asks for first, then the rest of the figures. */
const HEADLINE = ['clients', 'lag_ms_p50', 'lag_ms_p99', 'errors', 'server_cpu_pct', 'server_rss_mb'] as const;

function audioFormatFlag(value: string): ClientAudioFormat {
  if ((CLIENT_AUDIO_FORMATS as readonly string[]).includes(value)) return value as ClientAudioFormat;
  throw new EarshotError(
    'E_CONFIG_INVALID',
    `--format must be one of ${CLIENT_AUDIO_FORMATS.join(', ')}, got ${JSON.stringify(value)}.`,
  );
}

interface BenchServerFlags {
  json?: boolean;
  clients: number;
  seconds: number;
  realtime?: boolean;
  maxTokens: number;
  batchRows: number;
  engineNice: number;
  vadWorkers: number;
  format: string;
  audio?: string;
  admission?: boolean;
  arriveOver?: number;
  maxVadLagMs?: number;
  maxEngineWaitMs?: number;
  maxUtilization?: number;
}

async function runAdmission(opts: BenchServerFlags): Promise<void> {
  const result = await benchAdmission({
    clients: positiveIntFlag('clients', opts.clients),
    seconds: positiveIntFlag('seconds', opts.seconds),
    arriveOverS: opts.arriveOver,
    audio: opts.audio,
    maxTokens: positiveIntFlag('max-tokens', opts.maxTokens),
    maxVadLagMs: opts.maxVadLagMs,
    maxEngineWaitMs: opts.maxEngineWaitMs,
    maxUtilization: opts.maxUtilization,
    progress: opts.json ? undefined : (m) => process.stderr.write(`… ${m}\n`),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write('Admission benchmark (guards on; speech_stopped lag of admitted sessions in ms)\n');
  for (const [k, v] of Object.entries(result))
    process.stdout.write(`  ${k.padEnd(24)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
}

/** `earshot bench server`, registered on the `earshot bench` parent command. */
export function registerBenchServerCommand(bench: Command): void {
  bench
    .command('server')
    .description(
      'The whole server with the tiny model under N real-time speech clients (separate process): errors, event lag, server CPU and memory',
    )
    .option(
      '--json',
      'print one JSON object {"clients","lag_ms_p50","lag_ms_p99","errors","server_cpu_pct","server_rss_mb",...}',
    )
    .option('--clients <n>', 'concurrent WebSocket sessions', numberFlag, 10)
    .option('--seconds <s>', 'streaming time per client', numberFlag, 30)
    .option('--realtime', 'realtime sessions (every utterance answered) instead of transcription sessions')
    .option('--max-tokens <n>', 'caption/answer token cap (the tiny model never stops by itself)', numberFlag, 8)
    .option(
      '--batch-rows <n>',
      'engine.batch_max_rows: one-token steps per batched run (1 = no batching)',
      numberFlag,
      16,
    )
    .option('--engine-nice <n>', 'engine.worker_nice: Linux nice of the engine worker (0-19)', numberFlag, 0)
    .option('--vad-workers <n>', 'vad.worker_threads: Silero worker threads (batches in flight at once)', numberFlag, 1)
    .option(
      '--format <f>',
      'client audio: pcm24-json (24 kHz base64 events, what the OpenAI SDKs send) or pcm16-binary (16 kHz binary frames)',
      'pcm24-json',
    )
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .option(
      '--admission',
      "load guards on, sessions arriving one by one: admitted, refused (by code) and the admitted sessions' lag",
    )
    .option(
      '--arrive-over <s>',
      'with --admission: arrivals spread over this many seconds (default: half of --seconds)',
      numberFlag,
    )
    .option(
      '--max-vad-lag-ms <ms>',
      'with --admission: limits.max_vad_lag_ms (default: the server default)',
      numberFlag,
    )
    .option(
      '--max-engine-wait-ms <ms>',
      'with --admission: limits.max_engine_wait_ms (default: the server default)',
      numberFlag,
    )
    .option(
      '--max-utilization <fraction>',
      'with --admission: limits.admission_max_utilization, 0 = prediction off (default: the server default)',
      numberFlag,
    )
    .action(async (opts: BenchServerFlags) => {
      try {
        if (opts.admission) return await runAdmission(opts);
        const result = await benchServer({
          clients: positiveIntFlag('clients', opts.clients),
          seconds: positiveIntFlag('seconds', opts.seconds),
          realtime: opts.realtime,
          maxTokens: positiveIntFlag('max-tokens', opts.maxTokens),
          audio: opts.audio,
          format: audioFormatFlag(opts.format),
          batchMaxRows: positiveIntFlag('batch-rows', opts.batchRows),
          engineNice: opts.engineNice,
          vadWorkers: positiveIntFlag('vad-workers', opts.vadWorkers),
          progress: opts.json ? undefined : (m) => process.stderr.write(`… ${m}\n`),
        });
        const ordered = { ...Object.fromEntries(HEADLINE.map((k) => [k, result[k]])), ...result };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(ordered)}\n`);
          return;
        }
        process.stdout.write(
          'Server benchmark (speech_stopped lag in ms; server = this process incl. engine worker)\n',
        );
        for (const [k, v] of Object.entries(ordered))
          process.stdout.write(`  ${k.padEnd(24)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      } catch (err) {
        reportCliError(err);
      }
    });
}
