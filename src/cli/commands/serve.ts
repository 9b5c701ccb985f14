import { Option, type Command } from 'commander';
import { assertProviderAvailable } from '../../engine/execution_provider.ts';
import { startServer } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { resolveStorePath } from '../../store/transcript_store.ts';
import { loadCliConfig, numberFlag, reportCliError, withConfigOption } from '../cli_config.ts';

export function registerServeCommand(program: Command): void {
  withConfigOption(
    program
      .command('serve')
      .description('Run the Realtime server (WebSocket at /v1/realtime; /healthz, /readyz, /metrics, /v1/sessions)')
      .option('--host <address>', 'address to listen on (default 127.0.0.1; another address needs API keys)')
      .option('--port <port>', 'TCP port (default 8787, 0 = any free port)', numberFlag)
      .option('--model <dir>', 'Phi-4-multimodal ONNX model directory (default: EARSHOT_MODEL, config model.dir, or the pull cache)')
      .option('--store <file>', "SQLite transcript store (default: EARSHOT_STORE, config store.path, or $XDG_DATA_HOME/earshot/earshot.sqlite; ':memory:' keeps nothing)")
      .option('--tls-cert <file>', 'PEM certificate: serve https/wss')
      .option('--tls-key <file>', 'PEM private key for --tls-cert')
      .option('--tls-self-signed', 'serve https/wss with a self-signed certificate for localhost')
      .addOption(new Option('--device <device>', 'onnxruntime execution provider of the model (config engine.execution_provider; cuda needs its provider installed, see README)').choices(['cpu', 'cuda'])),
  ).action(async (opts: { host?: string; port?: number; config?: string; model?: string; store?: string; tlsCert?: string; tlsKey?: string; tlsSelfSigned?: boolean; device?: 'cpu' | 'cuda' }) => {
    let config = loadCliConfig(opts.config, {
      model: { dir: opts.model },
      server: { host: opts.host, port: opts.port, tls_cert_file: opts.tlsCert, tls_key_file: opts.tlsKey, tls_self_signed: opts.tlsSelfSigned },
      engine: { execution_provider: opts.device },
    });
    if (!config) return;
    // A missing model still lets the server start (and say why it cannot answer); a missing execution
    // provider is a deployment mistake with one fix, so it stops the start with that fix.
    try {
      assertProviderAvailable(config.engine.execution_provider);
    } catch (err) {
      reportCliError(err);
      return;
    }
    config = { ...config, store: { ...config.store, path: resolveStorePath({ flag: opts.store, configPath: config.store.path }) } };
    const log = createLogger(config.log.level);
    try {
      const running = await startServer(config, log);
      process.stdout.write(`earshot listening on ${running.url}\n`);
      if (running.server.tls) {
        process.stdout.write(`TLS certificate: ${running.server.tls.certPath} (Node clients: NODE_EXTRA_CA_CERTS=${running.server.tls.certPath})\n`);
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
  });
}
