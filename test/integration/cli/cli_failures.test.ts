// The CLI's failure contract: `--version` works, and operating-system failures end as one line
// `earshot: E_CODE: message` with a non-zero exit, never a stack trace.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCliFailure } from '../../../src/cli/cli_failure.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';

const BIN = join(REPO_ROOT, 'src', 'cli', 'earshot.mjs');

function earshot(args: string[]) {
  const env = { ...process.env };
  delete env.EARSHOT_DEBUG;
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

/** stderr without the server's JSON log lines. */
function humanLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
}

describe('earshot CLI failures', () => {
  let blocker: Server;
  let busyPort = 0;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    busyPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('--version prints the package version and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = earshot(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('serve on a port in use: one E_PORT_IN_USE line naming the port, exit 1, no stack', () => {
    const r = earshot(['serve', '--port', String(busyPort), '--store', ':memory:']);
    expect(r.status).toBe(1);
    const lines = humanLines(r.stderr);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^earshot: E_PORT_IN_USE: port ${busyPort}\\b`))]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('serve with a missing TLS file: one line naming the file, no stack', () => {
    const r = earshot([
      'serve',
      '--port',
      '0',
      '--store',
      ':memory:',
      '--tls-cert',
      '/nonexistent/cert.pem',
      '--tls-key',
      '/nonexistent/key.pem',
    ]);
    expect(r.status).not.toBe(0);
    const lines = humanLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^earshot: E_[A-Z_]+: .*\/nonexistent\/cert\.pem/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('maps operating-system errors to stable codes and anything else to E_INTERNAL', () => {
    const errno = (code: string, extra: object = {}) => Object.assign(new Error(code), { code, ...extra });
    expect(toCliFailure(errno('EADDRINUSE', { port: 80, address: '0.0.0.0' })).code).toBe('E_PORT_IN_USE');
    expect(toCliFailure(errno('EACCES', { path: '/root/x' })).message).toContain('/root/x');
    expect(toCliFailure(errno('ENOENT', { path: '/a/b' })).code).toBe('E_FILE_NOT_FOUND');
    expect(toCliFailure(errno('EWEIRD')).code).toBe('E_SYSTEM');
    expect(toCliFailure(new TypeError('boom')).code).toBe('E_INTERNAL');
    expect(toCliFailure('a string').message).toBe('a string');
  });
});
