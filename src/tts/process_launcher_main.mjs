// The process launcher's helper (see process_launcher.ts): a small Node process that starts programs on the
// server's behalf and relays their stdin, stdout and stderr over the IPC channel, so the server never forks
// itself. Plain JavaScript, run without a loader: it must start fast and stay small.
//
// In:  {op: 'spawn', id, program, args}, {op: 'write', id, data}, {op: 'end', id}, {op: 'kill', id, signal},
//      {op: 'pause' | 'resume', id} (the server's reader is full / has room again), {op: 'discard', id} (the
//      server's reader has gone: the output pipe is closed, as a reader closing a pipe would).
// Out: {ready} once; then per program {id, pid}, {id, stdout: data}, {id, stderr: data}, {id, wrote} (a
//      write reached the program's pipe), {id, stdoutEnd}, {id, stderrEnd}, {id, exit: {code, signal}};
//      or {id, error: {code, message}} when the program could not be started.
import { spawn } from 'node:child_process';

/** id -> {child, pausedByServer, sending}: a program's output is read only while neither holds it. */
const programs = new Map();

function send(message, sent) {
  if (!process.connected) return;
  process.send(message, undefined, {}, () => sent?.());
}

/** Relays one output stream; reading pauses until each piece has left this process (bounded memory). */
function relay(program, id, stream, name) {
  stream.on('data', (data) => {
    if (name === 'stdout') {
      program.sending = true;
      stream.pause();
    }
    send({ id, [name]: data }, () => {
      if (name !== 'stdout') return;
      program.sending = false;
      if (!program.pausedByServer) stream.resume();
    });
  });
  stream.on('end', () => send({ id, [`${name}End`]: true }));
  stream.on('error', () => {}); // a discarded pipe: 'end' or 'close' still comes
  stream.on('close', () => {
    if (!stream.readableEnded) send({ id, [`${name}End`]: true });
  });
}

function start({ id, program, args }) {
  let child;
  try {
    child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    send({ id, error: { code: err.code ?? 'ESPAWN', message: String(err.message) } });
    return;
  }
  child.once('error', (err) => {
    if (child.pid === undefined) send({ id, error: { code: err.code ?? 'ESPAWN', message: String(err.message) } });
  });
  if (child.pid === undefined) return;
  const entry = { child, pausedByServer: false, sending: false };
  programs.set(id, entry);
  child.stdin.on('error', () => {}); // EPIPE when it died before reading: its exit status says why
  relay(entry, id, child.stdout, 'stdout');
  relay(entry, id, child.stderr, 'stderr');
  child.once('exit', (code, signal) => send({ id, exit: { code, signal } }));
  child.once('close', () => programs.delete(id));
  send({ id, pid: child.pid });
}

const ops = {
  spawn: start,
  // The acknowledgement comes once the bytes are in the program's pipe (or failed to be): the server's
  // writer waits for it, so a program that does not read holds its writer back, as a pipe would.
  write: ({ id, data }) => {
    const child = programs.get(id)?.child;
    if (!child || child.stdin.destroyed) return send({ id, wrote: true });
    child.stdin.write(data, () => send({ id, wrote: true }));
  },
  end: ({ id }) => programs.get(id)?.child.stdin.end(),
  kill: ({ id, signal }) => programs.get(id)?.child.kill(signal),
  pause: ({ id }) => setPaused(id, true),
  resume: ({ id }) => setPaused(id, false),
  discard: ({ id }) => programs.get(id)?.child.stdout.destroy(),
};

function setPaused(id, paused) {
  const entry = programs.get(id);
  if (!entry) return;
  entry.pausedByServer = paused;
  if (paused) entry.child.stdout.pause();
  else if (!entry.sending) entry.child.stdout.resume();
}

process.on('message', (message) => {
  try {
    if (Object.hasOwn(ops, message?.op)) ops[message.op](message);
  } catch {
    // A malformed operation concerns one program at most; the helper serves the others.
  }
});

// The server is gone (exited or closed the channel): nothing it started may outlive it.
process.on('disconnect', () => {
  for (const { child } of programs.values()) child.kill('SIGKILL');
  process.exit(0);
});

send({ ready: true });
