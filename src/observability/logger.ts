import { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export type LogFormat = 'auto' | 'json' | 'pretty';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields every line carries that a person reading a terminal does not need. */
const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** One pino JSON line as `12:03:04 WARN  message key=value ...` for a person at a terminal. */
export function formatLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 19) : '--:--:--';
  const level = (LEVEL_NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !QUIET_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level, String(record.msg ?? ''), ...fields].join(' ').trimEnd();
}

/** A destination that rewrites each JSON line for a terminal. */
function prettyDestination(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') out.write(`${formatLogLine(line)}\n`);
      done();
    },
  });
}

/**
 * Logs on stderr (stdout stays free for CLI output such as `--json`): JSON, or readable lines when stderr is
 * a terminal (format 'auto'). Collectors get JSON; people get text.
 */
export function createLogger(level: string, format: LogFormat = 'auto'): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  return pino(
    { level, base: { service: 'earshot' } },
    pretty ? prettyDestination(process.stderr) : pino.destination(2),
  );
}
