// Warm espeak-ng processes. Starting espeak-ng costs 30-40 ms before its first byte (process start, voice
// load); a process started beforehand with `--stdin` waits on its stdin and gives its first audio 1-4 ms
// after the text is written. The pool keeps up to `maxIdle` such processes, keyed by (voice, words per
// minute) since both are command-line arguments, so a sentence rarely waits for a process start.
// A waiting process is unref'd: it never keeps Node alive, and if Node dies without close() the process
// reads end-of-file on its stdin, speaks nothing and exits, so none is left behind.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { type SpawnWithPipes, sharedProcessLauncher } from './process_launcher.ts';

const STDERR_KEEP_BYTES = 2048;

/** Starts `program args` with three pipes; injectable so tests can count and observe the spawns. */
export type SpawnEspeak = SpawnWithPipes;

/** Through the process launcher: starting a process must not fork the server (see process_launcher.ts). */
const spawnWithPipes: SpawnEspeak = (program, args) => sharedProcessLauncher().spawn(program, args);

/** One espeak-ng process and what it has reported so far (recorded from its start, warm or not). */
export interface EspeakProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the exit status once the process has exited and its pipes are closed. */
  readonly exited: Promise<number | null>;
  /** Set when the process could not be started (e.g. ENOENT: the program is missing). */
  spawnError: unknown;
  /** The last STDERR_KEEP_BYTES of its stderr. */
  stderr: string;
  /** True once it has exited or failed to start. */
  ended: boolean;
  /** True when it was started ahead of its text (taken from the pool). */
  warm: boolean;
}

export function espeakArgs(voice: string, wordsPerMinute: number): string[] {
  return ['-v', voice, '-s', String(wordsPerMinute), '--stdout', '--stdin'];
}

/** Starts one espeak-ng process waiting for its text on stdin. */
export function startEspeakProcess(
  spawnFn: SpawnEspeak,
  program: string,
  voice: string,
  wordsPerMinute: number,
): EspeakProcess {
  const child = spawnFn(program, espeakArgs(voice, wordsPerMinute));
  const proc: EspeakProcess = {
    child,
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    spawnError: null,
    stderr: '',
    ended: false,
    warm: false,
  };
  child.on('exit', () => {
    proc.ended = true;
  });
  child.on('error', (err) => {
    proc.spawnError = err;
    proc.ended = true;
  });
  child.stdin.on('error', () => {}); // EPIPE when it died before or during the write: its exit status says why
  child.stderr.on('data', (d: Buffer) => {
    proc.stderr = (proc.stderr + d.toString('utf8')).slice(-STDERR_KEEP_BYTES);
  });
  return proc;
}

export function isAlive(proc: EspeakProcess): boolean {
  return !proc.ended && proc.child.exitCode === null && proc.child.signalCode === null;
}

export function killProcess(proc: EspeakProcess): void {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
}

/** Whether the process keeps Node's event loop alive (a waiting one does not; one speaking does). */
function setRef(child: ChildProcessWithoutNullStreams, ref: boolean): void {
  // The pipes of a spawned child are net.Socket objects at run time (typed as plain streams); a launched
  // process's are plain streams and its own ref()/unref() covers its pipes.
  const pipes = [child.stdin, child.stdout, child.stderr] as unknown as { ref?(): void; unref?(): void }[];
  for (const handle of [child, ...pipes]) {
    if (ref) handle.ref?.();
    else handle.unref?.();
  }
}

/** Warm processes are kept per (voice, words per minute): both are espeak-ng's command-line arguments. */
function poolKey(voice: string, wordsPerMinute: number): string {
  return `${voice}\u0000${wordsPerMinute}`;
}

export interface EspeakPoolOptions {
  program: string;
  /** Idle processes kept in all (tts.espeak.warm_processes); 0 turns warming off. */
  maxIdle: number;
  /** An idle process unused this long is killed (tts.espeak.warm_idle_ms). */
  idleMs: number;
  spawn?: SpawnEspeak;
}

interface IdleEntry {
  key: string;
  proc: EspeakProcess;
  timer: NodeJS.Timeout;
}

export class EspeakProcessPool {
  private readonly opts: EspeakPoolOptions;
  private readonly spawnFn: SpawnEspeak;
  /** Oldest first: the one evicted when a new one would pass maxIdle. */
  private idle: IdleEntry[] = [];
  private closed = false;
  /** Processes started, warm or not (for tests and figures). */
  spawns = 0;

  constructor(opts: EspeakPoolOptions) {
    this.opts = opts;
    this.spawnFn = opts.spawn ?? spawnWithPipes;
  }

  /** Idle warm processes now. */
  get idleProcesses(): number {
    return this.idle.length;
  }

  /** A live warm process for (voice, wpm) if one waits, else a freshly started one. */
  take(voice: string, wordsPerMinute: number): EspeakProcess {
    const key = poolKey(voice, wordsPerMinute);
    for (;;) {
      const index = this.idle.findIndex((e) => e.key === key);
      if (index < 0) break;
      const [entry] = this.idle.splice(index, 1);
      clearTimeout(entry.timer);
      if (!isAlive(entry.proc)) continue; // died while waiting (killed, or a voice it could not load)
      setRef(entry.proc.child, true);
      return entry.proc;
    }
    return this.fresh(voice, wordsPerMinute);
  }

  /**
   * Starts one warm process for (voice, wpm), evicting the oldest idle one past maxIdle. Called once a
   * sentence's first audio has been sent: starting a process blocks the event loop (fork of this process:
   * measured 27-109 ms on the loaded 2-core build machine with the engine loaded), which must not come
   * between the text and that first audio.
   */
  replenish(voice: string, wordsPerMinute: number): void {
    if (this.closed || this.opts.maxIdle <= 0) return;
    let proc: EspeakProcess;
    try {
      proc = this.fresh(voice, wordsPerMinute);
    } catch {
      return; // a warm process is an optimisation: the next sentence starts its own and reports any failure
    }
    proc.warm = true;
    setRef(proc.child, false);
    const entry: IdleEntry = { key: poolKey(voice, wordsPerMinute), proc, timer: undefined as never };
    entry.timer = setTimeout(() => this.drop(entry), this.opts.idleMs);
    entry.timer.unref();
    proc.child.once('exit', () => this.drop(entry));
    this.idle.push(entry);
    while (this.idle.length > this.opts.maxIdle) this.drop(this.idle[0]);
  }

  /**
   * Starts a warm process for (voice, wpm) unless one already waits: a session that will speak soon gets
   * its first sentence started as fast as the later ones. Called outside any answer (see replenish on why).
   */
  warmUp(voice: string, wordsPerMinute: number): void {
    const key = poolKey(voice, wordsPerMinute);
    if (this.idle.some((e) => e.key === key && isAlive(e.proc))) return;
    this.replenish(voice, wordsPerMinute);
  }

  /** Kills every idle process; later takes start fresh processes and nothing is warmed again. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.idle]) this.drop(entry);
  }

  /** A process started now, never a warm one. */
  fresh(voice: string, wordsPerMinute: number): EspeakProcess {
    this.spawns++;
    return startEspeakProcess(this.spawnFn, this.opts.program, voice, wordsPerMinute);
  }

  private drop(entry: IdleEntry): void {
    const index = this.idle.indexOf(entry);
    if (index < 0) return; // already taken or dropped
    this.idle.splice(index, 1);
    clearTimeout(entry.timer);
    killProcess(entry.proc);
  }
}
