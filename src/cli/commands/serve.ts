import { Option, type Command } from 'commander';
import { DEFAULT_MODEL_VARIANT } from '../../engine/phi4mm/model_location.ts';
import { remoteEngineSchema } from '../../config/remote_engine_schema.ts';
import { ttsWithRemote } from '../../config/tts_schema.ts';
import type { EarshotConfig } from '../../config/schema.ts';
import { EarshotError } from '../../errors.ts';
import { assertProviderAvailable } from '../../engine/execution_provider.ts';
import { startServer } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { resolveStorePath } from '../../store/transcript_store.ts';
import { loadCliConfig, numberFlag, reportCliError, withConfigOption } from '../cli_config.ts';

/** --engine-url / EARSHOT_ENGINE_URL (and EARSHOT_ENGINE_API_KEY) over the file's engine.remote. */
function withRemoteEngine(config: EarshotConfig, url: string | undefined, apiKey: string | undefined): EarshotConfig {
  if (!url && !apiKey) return config;
  const remote = remoteEngineSchema.safeParse({
    ...config.engine.remote,
    ...(url ? { url } : {}),
    ...(apiKey ? { api_key: apiKey } : {}),
  });
  if (!remote.success)
    throw new EarshotError('E_CONFIG_INVALID', `--engine-url: ${remote.error.issues[0].message}`, {
      param: 'engine.remote.url',
    });
  return { ...config, engine: { ...config.engine, remote: remote.data } };
}

/** The flags of `earshot serve`, as commander parses them. */
interface ServeOptions {
  host?: string;
  port?: number;
  config?: string;
  model?: string;
  pull: boolean;
  store?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  logLevel?: string;
  logFormat?: string;
  agents: string[];
  engineUrl?: string;
  ttsUrl?: string;
  device?: 'cpu' | 'cuda';
}

export function registerServeCommand(program: Command): void {
  withConfigOption(addServeOptions(program.command('serve'))).action(serve);
}

/** The description and flags of `earshot serve` (everything but --config, which withConfigOption adds). */
function addServeOptions(command: Command): Command {
  return command
    .description('Run the Realtime server (WebSocket at /v1/realtime; /healthz, /readyz, /metrics, /v1/sessions)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1; another address needs API keys)')
    .option('--port <port>', 'TCP port (default 8787, 0 = any free port)', numberFlag)
    .option(
      '--model <dir>',
      'Phi-4-multimodal ONNX model directory (default: EARSHOT_MODEL, config model.dir, or the pull cache)',
    )
    .option('--no-pull', 'do not download a missing model on start (model.auto_pull=false)')
    .option(
      '--store <file>',
      "SQLite transcript store (default: EARSHOT_STORE, config store.path, or $XDG_DATA_HOME/earshot/earshot.sqlite; ':memory:' keeps nothing)",
    )
    .option('--tls-cert <file>', 'PEM certificate: serve https/wss')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--tls-self-signed', 'serve https/wss with a self-signed certificate for localhost')
    .option(
      '--agents <file>',
      'also offer the agents of this JavaScript/TypeScript module (repeatable; docs/agents.md)',
      (file: string, all: string[]) => [...all, file],
      [] as string[],
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)')
    .option('--log-format <format>', 'auto (readable on a terminal, JSON otherwise), json or pretty')
    .option(
      '--engine-url <url>',
      'use a remote OpenAI-compatible engine (vLLM or another Earshot) instead of loading the model (default: EARSHOT_ENGINE_URL, config engine.remote.url)',
    )
    .option(
      '--tts-url <url>',
      'speak answers with an OpenAI-compatible POST {url}/audio/speech server, e.g. http://host:8880/v1 (default: EARSHOT_TTS_URL, config tts.remote.url)',
    )
    .addOption(
      new Option(
        '--device <device>',
        'onnxruntime execution provider of the model (config engine.execution_provider; cuda needs its provider installed, see README)',
      ).choices(['cpu', 'cuda']),
    );
}

/** The action of `earshot serve`: the configuration from file, environment and flags, then the server. */
async function serve(opts: ServeOptions): Promise<void> {
  const config = serveConfig(opts);
  if (!config) return;
  await runServer(config);
}

/**
 * The server's configuration from the config file, the environment and the flags; undefined (the error
 * already reported) when it is invalid or names an execution provider that is not installed.
 */
function serveConfig(opts: ServeOptions): EarshotConfig | undefined {
  let config = loadCliConfig(opts.config, {
    log: { level: opts.logLevel, format: opts.logFormat },
    agent: { modules: opts.agents.length > 0 ? opts.agents : undefined },
    // Only the flag's "no" overrides: without it the config file and EARSHOT_MODEL_AUTO_PULL decide.
    model: { dir: opts.model, auto_pull: opts.pull ? undefined : false },
    server: {
      host: opts.host,
      port: opts.port,
      tls_cert_file: opts.tlsCert,
      tls_key_file: opts.tlsKey,
      tls_self_signed: opts.tlsSelfSigned,
    },
    engine: { execution_provider: opts.device },
  });
  if (!config) return undefined;
  // A missing model still lets the server start (and say why it cannot answer); a missing execution
  // provider is a deployment mistake with one fix, so it stops the start with that fix.
  try {
    assertProviderAvailable(config.engine.execution_provider);
  } catch (err) {
    reportCliError(err);
    return undefined;
  }
  config = {
    ...config,
    store: { ...config.store, path: resolveStorePath({ flag: opts.store, configPath: config.store.path }) },
  };
  try {
    config = withRemoteEngine(
      config,
      opts.engineUrl ?? process.env.EARSHOT_ENGINE_URL,
      process.env.EARSHOT_ENGINE_API_KEY,
    );
    return {
      ...config,
      tts: ttsWithRemote(config.tts, opts.ttsUrl ?? process.env.EARSHOT_TTS_URL, process.env.EARSHOT_TTS_API_KEY),
    };
  } catch (err) {
    reportCliError(err);
    return undefined;
  }
}

/** Starts the server, says where it listens, and serves until SIGINT or SIGTERM (a second one: at once). */
async function runServer(config: EarshotConfig): Promise<void> {
  const log = createLogger(config.log.level, config.log.format);
  try {
    // A missing model is fetched in the background while the server listens (model.auto_pull).
    const running = await startServer(config, log, {
      autoPull: { variant: DEFAULT_MODEL_VARIANT, env: process.env, progressStream: process.stderr },
    });
    process.stdout.write(`earshot listening on ${running.url}\nbrowser client: ${running.httpUrl}/\n`);
    if (running.server.tls) {
      process.stdout.write(
        `TLS certificate: ${running.server.tls.certPath} (Node clients: NODE_EXTRA_CA_CERTS=${running.server.tls.certPath})\n`,
      );
    }
    let signals = 0;
    const stop = async (signal: string) => {
      signals += 1;
      // A second signal means "now": skip the grace period.
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      log.info({ signal, graceMs: config.server.shutdown_grace_ms }, 'shutting down');
      await running.shutdown();
      log.info('shut down');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    await new Promise(() => {}); // serve until a signal
  } catch (err) {
    reportCliError(err);
  }
}
