import type { Command } from 'commander';
import { EarshotNodeClient, DEFAULT_TRAILING_SILENCE_MS, loadWav16k } from '../../../client/node_client.ts';
import { SessionModel } from '../../../client/core/session_model.ts';
import { isClientMode } from '../../../client/core/session_setup.ts';
import { formatRecord, recordsFor, summaryRecord, type StreamRecord } from '../../../client/stream_report.ts';
import { EarshotError, isEarshotError } from '../../errors.ts';
import { numberFlag } from '../cli_config.ts';

export interface StreamCommandOptions {
  url: string;
  realtime?: boolean;
  json?: boolean;
  mode?: string;
  agent?: string;
  language?: string;
  translateTo?: string;
  apiKey?: string;
  idleMs?: number;
  timeoutMs?: number;
}

export interface StreamIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** After the audio, the server is done when nothing arrives for this long and no text is in flight. */
const DEFAULT_IDLE_MS = 3000;
/** Hard cap on waiting after the audio for captions and answers (a slow CPU model), ms. */
const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Streams FILE to a running server and prints captions and answers as they arrive: the shape of a
 * call-center integration feeding recorded calls. Returns the process exit code.
 */
export async function runStream(file: string, opts: StreamCommandOptions, io: StreamIo): Promise<number> {
  const mode = opts.mode ?? 'agent';
  if (!isClientMode(mode))
    throw new EarshotError(
      'E_INVALID_REQUEST',
      `--mode must be agent, captions or translate, got ${JSON.stringify(mode)}`,
    );
  if (mode === 'translate' && !opts.translateTo)
    throw new EarshotError('E_INVALID_REQUEST', '--mode translate needs --translate-to <language>');
  // Read the file first: a bad path should not open (and bill) a session.
  const samples16k = await loadWav16k(file);
  const client = await EarshotNodeClient.connect({
    url: opts.url,
    mode,
    agent: opts.agent,
    language: opts.language,
    translateTo: opts.translateTo,
    apiKey: opts.apiKey ?? process.env.EARSHOT_API_KEY,
  });
  const model = new SessionModel(() => performance.now());
  let lastEventAt = performance.now();
  let errors = 0;
  const emit = (record: StreamRecord) => {
    if (opts.json) io.stdout.write(`${JSON.stringify(record)}\n`);
    else {
      const line = formatRecord(record);
      if (line !== null) (record.type === 'error' ? io.stderr : io.stdout).write(`${line}\n`);
    }
  };
  client.onEvent((event) => {
    lastEventAt = performance.now();
    model.apply(event);
    if (event.type === 'error') errors++;
    for (const record of recordsFor(event, model)) emit(record);
  });
  try {
    const sent = await client.streamSamples(samples16k, {
      realtime: opts.realtime,
      trailingSilenceMs: DEFAULT_TRAILING_SILENCE_MS,
    });
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Every utterance of the sent audio is known before the idle wait starts (a loaded server's VAD lags).
    await client.awaitInputProcessed(timeoutMs);
    await settle(model, () => lastEventAt, opts.idleMs ?? DEFAULT_IDLE_MS, timeoutMs);
    emit(summaryRecord(model, sent.sentMs));
  } finally {
    await client.close();
  }
  return errors > 0 ? 1 : 0;
}

/** Waits until the server has been quiet for idleMs with nothing in flight, or timeoutMs passed. */
async function settle(
  model: SessionModel,
  lastEventAt: () => number,
  idleMs: number,
  timeoutMs: number,
): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (!model.busy && performance.now() - lastEventAt() >= idleMs) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function registerStreamCommand(
  program: Command,
  io: StreamIo = { stdout: process.stdout, stderr: process.stderr },
): void {
  program
    .command('stream')
    .argument('<file>', 'WAV file (PCM16 or float32, any rate, mono or stereo)')
    .description('Stream a WAV file to a running server and print its captions and answers')
    .option(
      '--url <url>',
      'server URL (ws://host:port/v1/realtime or http://host:port)',
      'ws://127.0.0.1:8787/v1/realtime',
    )
    .option('--realtime', 'send the audio at real-time pace (default: as fast as the server accepts it)')
    .option(
      '--json',
      'print one JSON object per line (utterance, caption, answer, tool_call, interruption, error, summary)',
    )
    .option('--mode <mode>', 'agent (captions and answers), captions, or translate', 'agent')
    .option('--agent <name>', 'agent to talk to (?agent=)')
    .option('--language <code>', 'spoken language hint, e.g. en')
    .option('--translate-to <code>', 'caption language in translate mode, e.g. fr')
    .option('--api-key <key>', 'API key (default: $EARSHOT_API_KEY)')
    .option(
      '--idle-ms <n>',
      `after the audio, stop once the server has been quiet this long (default ${DEFAULT_IDLE_MS})`,
      numberFlag,
    )
    .option(
      '--timeout-ms <n>',
      `after the audio, stop waiting for text after this long (default ${DEFAULT_TIMEOUT_MS})`,
      numberFlag,
    )
    .action(async (file: string, opts: StreamCommandOptions) => {
      try {
        for (const key of ['idleMs', 'timeoutMs'] as const) {
          const value = opts[key];
          if (value !== undefined && (typeof value !== 'number' || value < 0)) {
            throw new EarshotError(
              'E_INVALID_REQUEST',
              `--${key === 'idleMs' ? 'idle-ms' : 'timeout-ms'} must be a non-negative number`,
            );
          }
        }
        process.exitCode = await runStream(file, opts, io);
      } catch (err) {
        if (!isEarshotError(err)) throw err;
        io.stderr.write(`earshot: ${err.code}: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
