// The process launcher's helper (see process_launcher.ts): a small Node process that starts programs on the
// server's behalf and relays their stdin, stdout and stderr over the IPC channel, so the server never forks
// itself. Plain JavaScript, run without a loader: it must start fast and stay small.
//
// In:  {op: 'spawn', id, program, args}, {op: 'write', id, data}, {op: 'end', id}, {op: 'kill', id, signal},
//      {op: 'pause' | 'resume', id} (the server's reader is full / has room again).
// Out: {id, pid}, {id, stdout: data}, {id, stderr: data}, {id, stdoutEnd}, {id, stderrEnd}, then
//      {id, exit: {code, signal}} once its pipes have closed; or {id, error: {code, message}} when the
//      program could not be started.
import { spawn } from 'node:child_process';

const children = new Map();

function send(message) {
  if (process.connected) process.send(message, undefined, {}, () => {});
}

function start({ id, program, args }) {
  let child;
  try {
    child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    send({ id, error: { code: err.code ?? 'ESPAWN', message: String(err.message) } });
    return;
  }
  let failed = false;
  child.once('error', (err) => {
    if (child.pid !== undefined) return; // started: its exit status says what happened
    failed = true;
    send({ id, error: { code: err.code ?? 'ESPAWN', message: String(err.message) } });
  });
  if (child.pid === undefined) return;
  children.set(id, child);
  child.stdin.on('error', () => {}); // EPIPE when it died before reading: its exit status says why
  child.stdout.on('data', (data) => send({ id, stdout: data }));
  child.stderr.on('data', (data) => send({ id, stderr: data }));
  child.stdout.on('end', () => send({ id, stdoutEnd: true }));
  child.stderr.on('end', () => send({ id, stderrEnd: true }));
  child.once('close', (code, signal) => {
    children.delete(id);
    if (!failed) send({ id, exit: { code, signal } });
  });
  send({ id, pid: child.pid });
}

const ops = {
  spawn: start,
  write: ({ id, data }) => children.get(id)?.stdin.write(data),
  end: ({ id }) => children.get(id)?.stdin.end(),
  kill: ({ id, signal }) => children.get(id)?.kill(signal),
  pause: ({ id }) => children.get(id)?.stdout.pause(),
  resume: ({ id }) => children.get(id)?.stdout.resume(),
};

process.on('message', (message) => {
  try {
    if (Object.hasOwn(ops, message?.op)) ops[message.op](message);
  } catch {
    // A malformed operation concerns one program at most; the helper serves the others.
  }
});

// The server is gone (exited or closed the channel): nothing it started may outlive it.
process.on('disconnect', () => {
  for (const child of children.values()) child.kill('SIGKILL');
  process.exit(0);
});
