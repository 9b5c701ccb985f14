// Programs started through the process launcher (a helper process starts them; the server never forks):
// the same output, exit statuses and events as spawn() gives, output that nobody reads pauses the program,
// and a helper that dies or cannot start never loses a program silently.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProcessLauncher } from '../../../src/tts/process_launcher.ts';
import { waitFor } from '../../helpers/wait_for.ts';

const launchers: ProcessLauncher[] = [];
afterEach(() => {
  for (const l of launchers.splice(0)) l.close();
});

function launcher(opts: ConstructorParameters<typeof ProcessLauncher>[0] = {}): ProcessLauncher {
  const l = new ProcessLauncher(opts);
  launchers.push(l);
  return l;
}

/** Everything one program reports: its output, and its events in order with their arguments. */
async function run(child: ChildProcessWithoutNullStreams, input?: string) {
  const events: string[] = [];
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {});
  child.on('exit', (code, signal) => events.push(`exit ${code} ${signal}`));
  child.on('error', (err: NodeJS.ErrnoException) => events.push(`error ${err.code}`));
  const closed = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => {
      events.push(`close ${code} ${signal}`);
      resolve();
    }),
  );
  if (input !== undefined) child.stdin.end(input);
  await closed;
  return { events, stdout: Buffer.concat(chunks), stderr, exitCode: child.exitCode, signalCode: child.signalCode };
}

const direct = (program: string, args: string[]) => spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });

/** The parent pid of a running process (Linux). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('the process launcher', () => {
  it('gives what spawn() gives: the same output for the same input, exit status and events in order', async () => {
    const l = launcher();
    const args = ['-v', 'en-us', '--stdout', '--stdin'];
    const text = 'The train leaves at ten, from platform nine.';
    const launched = await run(l.spawn('espeak-ng', args), text);
    const spawned = await run(direct('espeak-ng', args), text);
    expect(launched.stdout.length).toBeGreaterThan(40_000);
    expect(launched.stdout.equals(spawned.stdout)).toBe(true);
    expect(launched.events).toEqual(['exit 0 null', 'close 0 null']);
    expect(launched.events).toEqual(spawned.events);
    const failing = ['-c', 'printf oops >&2; exit 3'];
    const [a, b] = [await run(l.spawn('sh', failing)), await run(direct('sh', failing))];
    expect(a).toMatchObject({ events: ['exit 3 null', 'close 3 null'], stderr: 'oops', exitCode: 3 });
    expect(a.events).toEqual(b.events);
    expect(l.launched).toBe(2);
    expect(l.startedDirectly).toBe(0);
  });

  it('starts programs from its helper, never from this process', async () => {
    const l = launcher();
    const child = l.spawn('sleep', ['5']);
    await waitFor(() => child.pid, { what: 'the pid' });
    expect(parentOf(child.pid!)).toBe(l.helperPid);
    expect(parentOf(child.pid!)).not.toBe(process.pid);
    child.kill('SIGKILL');
    expect(await run(child)).toMatchObject({
      events: ['exit null SIGKILL', 'close null SIGKILL'],
      signalCode: 'SIGKILL',
    });
  });

  it('reports a missing program as spawn() does: error ENOENT, then close', async () => {
    const l = launcher();
    const launched = await run(l.spawn('no-such-program-earshot', []));
    const spawned = await run(direct('no-such-program-earshot', []));
    expect(launched.events).toEqual(['error ENOENT', 'close -2 null']);
    expect(launched.events).toEqual(spawned.events);
  });

  it('kills a program asked to stop before it has even started', async () => {
    const l = launcher();
    const child = l.spawn('sleep', ['5']);
    expect(child.kill('SIGKILL')).toBe(true);
    expect((await run(child)).signalCode).toBe('SIGKILL');
  });

  it('pauses a program whose output is not read, and loses nothing once it is', async () => {
    const l = launcher();
    const bytes = 8_000_000;
    const child = l.spawn('head', ['-c', String(bytes), '/dev/zero']);
    await waitFor(() => child.stdout.readableLength > 0, { what: 'the first output' });
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull(); // blocked writing: the pipe is full
    expect(child.stdout.readableLength).toBeLessThan(2_000_000);
    expect((await run(child)).stdout.length).toBe(bytes);
  });

  it('when its helper dies, a running program is stopped and reported, and the next one gets a new helper', async () => {
    const l = launcher();
    const child = l.spawn('sleep', ['5']);
    await waitFor(() => child.pid, { what: 'the pid' });
    const first = l.helperPid!;
    const result = run(child);
    process.kill(first, 'SIGKILL');
    expect((await result).events).toEqual(['exit null SIGKILL', 'close null SIGKILL']);
    const next = await run(l.spawn('sh', ['-c', 'echo again']));
    expect(next.stdout.toString()).toBe('again\n');
    expect(l.helperPid).not.toBe(first);
    expect(l.startedDirectly).toBe(0);
  });

  it('starts programs directly when its helper cannot run, without trying it again', async () => {
    const l = launcher({ helperPath: '/nonexistent/earshot-helper.mjs' });
    l.start(); // as the voice engine does when it opens
    await waitFor(() => l.helperPid === undefined, { what: 'the helper to fail' });
    const first = await run(l.spawn('sh', ['-c', 'echo direct']));
    expect(first.stdout.toString()).toBe('direct\n');
    await run(l.spawn('sh', ['-c', 'true']));
    expect(l.startedDirectly).toBe(2);
    expect(l.helperPid).toBeUndefined();
  });

  it('fails a program given to a helper that died before starting it, clearly', async () => {
    const l = launcher({ helperPath: '/nonexistent/earshot-helper.mjs' });
    const lost = await run(l.spawn('sh', ['-c', 'echo lost']));
    expect(lost.events).toEqual(['error ELAUNCHER', 'close -2 null']);
    expect((await run(l.spawn('sh', ['-c', 'echo direct']))).stdout.toString()).toBe('direct\n');
  });

  it('a reader that stops early closes the output, so the program ends and close follows, as with spawn()', async () => {
    const l = launcher();
    const outcome = async (child: ChildProcessWithoutNullStreams) => {
      const closed = new Promise<string>((resolve) =>
        child.on('close', (code, signal) => resolve(`${code} ${signal}`)),
      );
      child.stdout.on('error', () => {});
      for await (const _chunk of child.stdout) break;
      return closed;
    };
    // `yes` is killed by SIGPIPE, or sees EPIPE first and exits 1 (both happen with spawn() too): it ends.
    for (const child of [direct('yes', []), l.spawn('yes', [])])
      expect(await outcome(child)).toMatch(/^(null SIGPIPE|1 null)$/);
    await waitFor(() => l.programsInFlight === 0, { what: 'nothing in flight' });
  });

  it('reports the exit at once while output waits unread, as spawn() does', async () => {
    const l = launcher();
    for (const child of [
      l.spawn('head', ['-c', '1000000', '/dev/zero']),
      direct('head', ['-c', '1000000', '/dev/zero']),
    ]) {
      child.stdout.on('readable', () => {}); // a reader that has not pulled yet
      await waitFor(() => child.pid, { what: 'the pid' });
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(`${code} ${signal}`)));
      child.kill('SIGKILL');
      expect(await exited).toBe('null SIGKILL');
      child.stdout.resume();
    }
  });

  it('holds back a writer whose program does not read, as a pipe does', async () => {
    const l = launcher();
    const child = l.spawn('sleep', ['3']);
    child.stdin.on('error', () => {});
    const chunk = Buffer.alloc(48_000);
    let accepted = 0;
    for (;;) {
      if (!child.stdin.write(chunk)) {
        const drained = await Promise.race([
          new Promise((resolve) => child.stdin.once('drain', () => resolve(true))),
          new Promise((resolve) => setTimeout(() => resolve(false), 300)),
        ]);
        if (!drained) break;
      }
      accepted += chunk.length;
      if (accepted > 8_000_000) break;
    }
    expect(accepted).toBeLessThan(1_000_000);
    child.kill('SIGKILL');
    await run(child);
  });

  it('never signals the pid of a program that has exited, when its helper goes', async () => {
    const l = launcher();
    const child = l.spawn('sh', ['-c', 'echo x']);
    child.stdout.on('readable', () => {}); // output still unread when the helper goes
    await new Promise((resolve) => child.once('exit', resolve));
    const kill = vi.spyOn(process, 'kill');
    try {
      l.close();
      await waitFor(() => l.helperPid === undefined, { what: 'the helper to go' });
      expect(kill.mock.calls.filter(([pid]) => pid === child.pid)).toEqual([]);
    } finally {
      kill.mockRestore();
    }
  });
});
