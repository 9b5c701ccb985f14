import { EarshotError, isEarshotError } from '../errors.ts';

// Every failure a CLI command can meet becomes one line `earshot: E_CODE: message` on stderr and a non-zero
// exit, never a stack trace: a user who typed a wrong port or path needs the cause, not our call stack.
// EARSHOT_DEBUG=1 adds the stack for developers.

/** Operating-system error numbers (Node's `err.code`) and the stable code a user sees for each. */
const SYSTEM_ERROR_CODES: Record<
  string,
  { code: EarshotError['code']; describe: (err: NodeJS.ErrnoException) => string }
> = {
  EADDRINUSE: {
    code: 'E_PORT_IN_USE',
    describe: (e) => `${addressOf(e)} is already in use (another earshot, or pick one with --port)`,
  },
  EADDRNOTAVAIL: { code: 'E_PORT_IN_USE', describe: (e) => `${addressOf(e)} is not an address of this machine` },
  EACCES: { code: 'E_PERMISSION_DENIED', describe: (e) => `permission denied: ${targetOf(e)}` },
  EPERM: { code: 'E_PERMISSION_DENIED', describe: (e) => `operation not permitted: ${targetOf(e)}` },
  ENOENT: { code: 'E_FILE_NOT_FOUND', describe: (e) => `no such file: ${targetOf(e)}` },
  EISDIR: { code: 'E_FILE_NOT_FOUND', describe: (e) => `a directory where a file was expected: ${targetOf(e)}` },
  ENOTDIR: { code: 'E_FILE_NOT_FOUND', describe: (e) => `not a directory: ${targetOf(e)}` },
  ENOSPC: { code: 'E_SYSTEM', describe: (e) => `no space left on device: ${targetOf(e)}` },
  EMFILE: { code: 'E_SYSTEM', describe: () => 'too many open files (raise the limit with ulimit -n)' },
};

function addressOf(err: NodeJS.ErrnoException & { address?: string; port?: number }): string {
  return err.port !== undefined ? `port ${err.port}${err.address ? ` on ${err.address}` : ''}` : 'the address';
}

function targetOf(err: NodeJS.ErrnoException): string {
  return err.path ?? err.syscall ?? 'unknown target';
}

function isErrnoException(value: unknown): value is NodeJS.ErrnoException {
  return value instanceof Error && typeof (value as NodeJS.ErrnoException).code === 'string';
}

/** The stable error a CLI user sees for any thrown value. */
export function toCliFailure(err: unknown): EarshotError {
  if (isEarshotError(err)) return err;
  if (isErrnoException(err)) {
    const known = SYSTEM_ERROR_CODES[err.code!];
    if (known) return new EarshotError(known.code, known.describe(err), { cause: err });
    return new EarshotError('E_SYSTEM', err.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new EarshotError('E_INTERNAL', message, { cause: err });
}

/** Writes one line for the failure; the stack only with EARSHOT_DEBUG=1. Returns the exit code to use. */
export function reportCliFailure(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const failure = toCliFailure(err);
  stderr.write(`earshot: ${failure.code}: ${failure.message}\n`);
  if (process.env.EARSHOT_DEBUG === '1' && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  return 1;
}
