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
      .option('--port <port>', 'TCP port (default 8787, 0 = any free port)', numberFlag),
  ).action(async (opts: { host?: string; port?: number; config?: string }) => {
    const config = loadCliConfig(opts.config, { server: { host: opts.host, port: opts.port } });
    if (!config) return;
    const log = createLogger(config.log.level);
    try {
      const running = await startServer(config, log);
      process.stdout.write(`earshot listening on ${running.url}\n`);
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
