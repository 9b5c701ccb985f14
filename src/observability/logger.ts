import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** JSON logs on stderr (stdout stays free for CLI output such as `--json`). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'earshot' } }, pino.destination(2));
}
