// `earshot serve` as a child process, for the tests that kill it or send it signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const EARSHOT_BIN = fileURLToPath(new URL('../../../src/cli/earshot.mjs', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  httpUrl: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `earshot serve --port 0` with the given flags; data directories point into `dataDir`. */
export async function spawnServer(
  args: string[],
  opts: { dataDir: string; env?: Record<string, string> },
): Promise<ServerProcess> {
  // Node's flags as npm start gives them (src/observability/gc_mode.ts).
  const child = spawn(process.execPath, ['--single-threaded-gc', EARSHOT_BIN, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: opts.dataDir,
      XDG_DATA_HOME: opts.dataDir,
      EARSHOT_LOG_LEVEL: 'warn',
      EARSHOT_AGENT_DATA_DIR: opts.dataDir,
      EARSHOT_ENGINE_INTRA_OP_THREADS: '1',
      // Tests have no network: a server started without a model must not try the real hub.
      EARSHOT_MODEL_AUTO_PULL: 'false',
      ...opts.env,
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /earshot listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(({ code }) => reject(new Error(`earshot serve exited (${code}) before listening: ${stderr}`)));
  });
  const httpUrl = url.replace(/^ws/, 'http').replace(/\/v1\/realtime$/, '');
  return { child, url, httpUrl, stderr: () => stderr, exited };
}
