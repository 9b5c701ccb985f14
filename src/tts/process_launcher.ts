// Starting a program without forking the server. Node starts a child process with fork() + exec(), and
// fork() copies the parent's page tables while the event loop waits: 15-30 ms per GB of resident memory on
// the build machine (9-10 ms at 0.2 GB, 119-146 ms at 6.6 GB: `earshot bench tts --only process-start`), and
// the server holds the model's weights (several GB at real size) in its engine worker. Spoken answers start
// an espeak-ng process per sentence, so every session's events and WebRTC frames would wait that long,
// again and again.
//
// The launcher is a small helper process (process_launcher_main.mjs), forked once, that starts programs on
// the server's behalf and relays their pipes over its IPC channel (a speaking espeak-ng writes ~44 KB/s;
// the server's reader pauses the program's output when it is full, as a pipe would). What the caller gets
// behaves like the ChildProcessWithoutNullStreams spawn() gives (the parts the voice engines use): stdio
// streams usable at once, 'error' / 'exit' / 'close' as spawn() orders them, exitCode, signalCode, kill(),
// ref() / unref(). A helper that dies is started anew (at most `maxRestarts` times); one that dies before it
// has started, or past that bound, leaves programs to spawn() directly.
import { type ChildProcess, type ChildProcessWithoutNullStreams, fork, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const HELPER_PATH = fileURLToPath(new URL('./process_launcher_main.mjs', import.meta.url));

/** Starts `program args` with three pipes (the shape spawn() gives). */
export type SpawnWithPipes = (program: string, args: readonly string[]) => ChildProcessWithoutNullStreams;

/** What the helper reports about one program (see process_launcher_main.mjs). */
export interface HelperMessage {
  /** The helper runs (sent once, before anything else). */
  ready?: true;
  id: number;
  pid?: number;
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  stdoutEnd?: true;
  stderrEnd?: true;
  /** The last write reached the program's pipe (or failed to): the writer may go on. */
  wrote?: true;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  error?: { code: string; message: string };
}

export interface ProcessLauncherOptions {
  /** Times a helper that died is started again before programs are started directly for good. */
  maxRestarts?: number;
  /** The helper script (tests point it at one that fails). */
  helperPath?: string;
}

export class ProcessLauncher {
  private helper: ChildProcess | null = null;
  /** The current helper has said it runs: one that dies before that will not run next time either. */
  private helperReady = false;
  private readonly inFlight = new Map<number, LaunchedProcess>();
  private nextId = 1;
  private restartsLeft: number;
  private readonly helperPath: string;
  /** In-flight processes that keep Node alive (ref'd): the channel is ref'd while there are any. */
  private refs = 0;
  /** Programs started by the helper and directly (for tests and figures). */
  launched = 0;
  startedDirectly = 0;

  constructor(opts: ProcessLauncherOptions = {}) {
    this.restartsLeft = opts.maxRestarts ?? 3;
    this.helperPath = opts.helperPath ?? HELPER_PATH;
  }

  /** Starts the helper now (it is otherwise started by the first spawn): forking is cheapest while small. */
  start(): void {
    this.ensureHelper();
  }

  /** spawn(program, args) with pipes, through the helper when it runs. */
  readonly spawn: SpawnWithPipes = (program, args) => {
    const helper = this.ensureHelper();
    if (!helper) {
      this.startedDirectly++;
      return spawn(program, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    }
    const id = this.nextId++;
    const proc = new LaunchedProcess(id, this);
    this.inFlight.set(id, proc);
    this.launched++;
    helper.send({ op: 'spawn', id, program, args: [...args] });
    return proc as unknown as ChildProcessWithoutNullStreams;
  };

  /** Programs started through the helper that have not closed yet. */
  get programsInFlight(): number {
    return this.inFlight.size;
  }

  /** The helper's pid while it runs (tests). */
  get helperPid(): number | undefined {
    return this.helper?.pid;
  }

  /** Stops the helper and the programs it runs (reported as killed); a later spawn starts a new helper. */
  close(): void {
    this.helper?.disconnect();
  }

  /** @internal Sends an operation on program `id` to the helper; false when there is no helper. */
  tell(message: {
    op: 'write' | 'end' | 'kill' | 'pause' | 'resume' | 'discard';
    id: number;
    [key: string]: unknown;
  }): boolean {
    if (!this.helper?.connected) return false;
    this.helper.send(message);
    return true;
  }

  /** @internal A LaunchedProcess became ref'd (+1) or unref'd or finished (-1). */
  holdRef(delta: number): void {
    this.refs += delta;
    const channel = this.helper?.channel;
    if (!channel) return;
    if (this.refs > 0) channel.ref();
    else channel.unref();
  }

  /** @internal */
  finished(id: number): void {
    this.inFlight.delete(id);
  }

  private ensureHelper(): ChildProcess | null {
    if (this.helper) return this.helper;
    if (this.restartsLeft < 0) return null;
    this.restartsLeft--;
    let helper: ChildProcess;
    try {
      helper = fork(this.helperPath, [], {
        execArgv: [],
        serialization: 'advanced', // Buffers travel as bytes, not as JSON arrays
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      });
    } catch {
      return null;
    }
    this.helper = helper;
    this.helperReady = false;
    helper.unref();
    this.holdRef(0); // the new channel takes the ref state of the programs still in flight
    helper.on('message', (message: HelperMessage) => {
      if (message.ready) this.helperReady = true;
      else this.inFlight.get(message.id)?.receive(message);
    });
    helper.on('error', () => this.lost(helper));
    helper.on('exit', () => this.lost(helper));
    helper.on('disconnect', () => this.lost(helper));
    return helper;
  }

  /** The helper is gone: what it had not started fails (ELAUNCHER); what runs is stopped, reported as killed. */
  private lost(helper: ChildProcess): void {
    if (this.helper !== helper) return;
    this.helper = null;
    if (!this.helperReady) this.restartsLeft = -1; // it cannot start here: spawn() directly from now on
    if (helper.exitCode === null && helper.signalCode === null) helper.kill('SIGKILL');
    for (const proc of [...this.inFlight.values()]) proc.helperLost();
  }
}

/** A program started by the helper, seen as spawn() would show it. */
class LaunchedProcess extends EventEmitter {
  readonly stdin: Writable;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private refd = true;
  private outputsOpen = 2;
  private exited = false;
  private closed = false;
  /** The stdin write the helper has not yet acknowledged (one at a time: Writable orders them). */
  private pendingWrite: (() => void) | null = null;

  constructor(
    private readonly id: number,
    private readonly launcher: ProcessLauncher,
  ) {
    super();
    launcher.holdRef(1);
    this.stdin = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (this.exited || !launcher.tell({ op: 'write', id, data: chunk })) return done();
        this.pendingWrite = done;
      },
      final: (done) => {
        launcher.tell({ op: 'end', id });
        done();
      },
    });
    this.stdout.on('drain', () => launcher.tell({ op: 'resume', id }));
    // A reader that stops early destroys the stream ('close' without 'end'): the program's output pipe is
    // closed for it, as closing a pipe's read end would.
    this.stdout.once('close', () => {
      if (!this.stdout.readableEnded) launcher.tell({ op: 'discard', id });
    });
    for (const out of [this.stdout, this.stderr]) out.once('close', () => this.outputClosed());
  }

  /** @internal */
  receive(message: HelperMessage): void {
    if (this.closed) return;
    if (message.pid !== undefined) this.pid = message.pid;
    if (message.stdout && writable(this.stdout) && !this.stdout.write(bytes(message.stdout)))
      this.launcher.tell({ op: 'pause', id: this.id });
    if (message.stderr && writable(this.stderr)) this.stderr.write(bytes(message.stderr));
    if (message.wrote) this.releaseWrite();
    if (message.stdoutEnd) endOutput(this.stdout);
    if (message.stderrEnd) endOutput(this.stderr);
    if (message.exit) this.exit(message.exit.code, message.exit.signal);
    if (message.error) this.failed(Object.assign(new Error(message.error.message), { code: message.error.code }));
  }

  /** @internal */
  helperLost(): void {
    this.releaseWrite();
    if (this.pid === undefined) {
      const err = new Error('The process launcher exited before the program started.');
      this.failed(Object.assign(err, { code: 'ELAUNCHER' }));
      return;
    }
    // Its output is no longer relayed: stop it (unless it has exited: its pid may be another's by now).
    if (!this.exited) killPid(this.pid, 'SIGKILL');
    endOutput(this.stdout);
    endOutput(this.stderr);
    this.exit(null, 'SIGKILL');
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    if (this.launcher.tell({ op: 'kill', id: this.id, signal })) return true;
    return this.pid !== undefined && killPid(this.pid, signal);
  }

  ref(): void {
    if (this.refd) return;
    this.refd = true;
    if (!this.closed) this.launcher.holdRef(1);
  }

  unref(): void {
    if (!this.refd) return;
    this.refd = false;
    if (!this.closed) this.launcher.holdRef(-1);
  }

  private releaseWrite(): void {
    const done = this.pendingWrite;
    this.pendingWrite = null;
    done?.();
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    // As spawn() does: output nobody reads is drained, so 'close' follows the exit.
    for (const out of [this.stdout, this.stderr])
      if (out.listenerCount('data') + out.listenerCount('readable') === 0) out.resume();
    this.maybeClose();
  }

  /** Not started (e.g. ENOENT): 'error' then 'close', as spawn() reports it. */
  private failed(err: Error & { code?: string }): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = -2;
    this.releaseWrite();
    this.stdin.destroy();
    endOutput(this.stdout);
    endOutput(this.stderr);
    this.emit('error', err);
    this.emitClose(-2, null);
  }

  private outputClosed(): void {
    this.outputsOpen = Math.max(0, this.outputsOpen - 1);
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.exited && this.outputsOpen === 0) this.emitClose(this.exitCode, this.signalCode);
  }

  private emitClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.refd) this.launcher.holdRef(-1);
    this.launcher.finished(this.id);
    this.emit('close', code, signal);
  }
}

function writable(out: PassThrough): boolean {
  return !out.destroyed && !out.writableEnded;
}

/** Ends an output stream unless it has ended or its reader destroyed it. */
function endOutput(out: PassThrough): void {
  if (writable(out)) out.end();
}

/** A Buffer over the bytes the helper sent (no copy). */
function bytes(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function killPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

let shared: ProcessLauncher | null = null;

/** The process's one launcher (started on first use; its helper never keeps Node alive). */
export function sharedProcessLauncher(): ProcessLauncher {
  shared ??= new ProcessLauncher();
  return shared;
}
