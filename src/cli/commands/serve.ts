import type { Command } from 'commander';
import { startServer } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { loadCliConfig, numberFlag, reportCliError, withConfigOption } from '../cli_config.ts';

export function registerServeCommand(program: Command): void {
  withConfigOption(
    program
      .command('serve')
      .description('Run the Realtime server (WebSocket at /v1/realtime, health at /healthz)')
      .option('--host <address>', 'address to listen on (default 127.0.0.1)')
      .option('--port <port>', 'TCP port (default 8787, 0 = any free port)', numberFlag)
      .option('--model <dir>', 'Phi-4-multimodal ONNX model directory (default: EARSHOT_MODEL, config model.dir, or the pull cache)')
      .option('--tls-cert <file>', 'PEM certificate: serve https/wss')
      .option('--tls-key <file>', 'PEM private key for --tls-cert')
      .option('--tls-self-signed', 'serve https/wss with a self-signed certificate for localhost'),
  ).action(async (opts: { host?: string; port?: number; config?: string; model?: string; tlsCert?: string; tlsKey?: string; tlsSelfSigned?: boolean }) => {
    const config = loadCliConfig(opts.config, {
      model: { dir: opts.model },
      server: { host: opts.host, port: opts.port, tls_cert_file: opts.tlsCert, tls_key_file: opts.tlsKey, tls_self_signed: opts.tlsSelfSigned },
    });
    if (!config) return;
    const log = createLogger(config.log.level);
    try {
      const running = await startServer(config, log);
      process.stdout.write(`earshot listening on ${running.url}\n`);
      if (running.server.tls) {
        process.stdout.write(`TLS certificate: ${running.server.tls.certPath} (Node clients: NODE_EXTRA_CA_CERTS=${running.server.tls.certPath})\n`);
      }
      const stop = async (signal: string) => {
        log.info({ signal }, 'shutting down');
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      await new Promise(() => {}); // serve until a signal
    } catch (err) {
      reportCliError(err);
    }
  });
}
