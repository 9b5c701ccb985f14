// Warm espeak-ng processes (the real program): a sentence takes a process started ahead of it, the pool
// stays within its bounds, idle ones die after their lifetime and on close, a warm process that died is
// never used for audio, and voice errors are the same as without the pool.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, defaultConfig } from '../../../src/config/schema.ts';
import { EarshotError } from '../../../src/errors.ts';
import type { SpawnEspeak } from '../../../src/tts/espeak_pool.ts';
import { EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import { rms, synthesizeAll } from '../../helpers/tts_audio.ts';
import { waitFor } from '../../helpers/wait_for.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const config = defaultConfig().tts;
const SENTENCE = 'The train leaves at ten, from platform nine.';

/** A synthesizer whose espeak-ng starts are recorded (the real program, started the usual way). */
function recorded(over: Partial<typeof config.espeak> = {}) {
  const children: { child: ChildProcessWithoutNullStreams; args: readonly string[] }[] = [];
  const spawnFn: SpawnEspeak = (program, args) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push({ child, args });
    return child;
  };
  const synth = new EspeakSynthesizer({ ...config.espeak, ...over, maxInputChars: config.max_input_chars }, spawnFn);
  opened.push(synth);
  return { synth, children };
}

const opened: EspeakSynthesizer[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const exited = (child: ChildProcessWithoutNullStreams) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('warm espeak-ng processes', () => {
  it('has named, validated bounds: tts.espeak.warm_processes (0-64, default 2) and warm_idle_ms (> 0)', () => {
    expect(config.espeak.warm_processes).toBe(2);
    expect(config.espeak.warm_idle_ms).toBe(60_000);
    const parses = (espeak: Record<string, unknown>) => configSchema.safeParse({ tts: { espeak } }).success;
    expect(parses({ warm_processes: 0 })).toBe(true);
    expect(parses({ warm_processes: -1 })).toBe(false);
    expect(parses({ warm_processes: 65 })).toBe(false);
    expect(parses({ warm_processes: 1.5 })).toBe(false);
    expect(parses({ warm_idle_ms: 0 })).toBe(false);
  });

  it('starts a warm process after the first audio and speaks the next sentence with it', async () => {
    const { synth, children } = recorded();
    expect((await synthesizeAll(synth, SENTENCE)).pcm.length).toBeGreaterThan(0);
    expect(children).toHaveLength(2); // the cold one that spoke, and one warm for the next sentence
    expect(synth.warmProcesses).toBe(1);
    const warm = children[1].child;
    expect(warm.exitCode).toBeNull();
    const { pcm } = await synthesizeAll(synth, SENTENCE);
    expect(rms(pcm)).toBeGreaterThan(500);
    // The warm process spoke (and exited 0); one replacement was started, none for the text itself.
    expect(warm.exitCode).toBe(0);
    expect(children).toHaveLength(3);
    expect(synth.warmProcesses).toBe(1);
    expect(children[2].child.exitCode).toBeNull();
  });

  it('keeps a process per voice and speed, and no more than tts.espeak.warm_processes in all', async () => {
    const { synth, children } = recorded({ warm_processes: 2 });
    await synthesizeAll(synth, SENTENCE, 'en-us');
    await synthesizeAll(synth, SENTENCE, 'en-gb');
    expect(synth.warmProcesses).toBe(2);
    await synthesizeAll(synth, SENTENCE, 'en-us', 1.5); // another speed: another process
    expect(synth.warmProcesses).toBe(2);
    // The oldest warm one (en-us at speed 1) was killed to keep the bound.
    const warmUs = children.find((c) => c.args.includes('en-us') && c.args.includes('175') && c !== children[0]);
    await exited(warmUs!.child);
    expect(warmUs!.child.signalCode).toBe('SIGKILL');
    const before = children.length;
    await synthesizeAll(synth, SENTENCE, 'en-gb'); // still warm: one start, the replacement
    expect(children.length).toBe(before + 1);
  });

  it("warmUp() starts one warm process for a session's voice and speed before its first sentence, which speaks with it", async () => {
    const { synth, children } = recorded();
    synth.warmUp('en-gb', 1.5);
    expect(children).toHaveLength(0); // started after the caller's current work, not inside it
    await waitFor(() => synth.warmProcesses === 1, { what: 'the warm process' });
    expect(children[0].args).toEqual(['-v', 'en-gb', '-s', '263', '--stdout', '--stdin']);
    synth.warmUp('en-gb', 1.5); // one already waits: nothing more
    await new Promise((r) => setImmediate(r));
    expect(children).toHaveLength(1);
    const { pcm } = await synthesizeAll(synth, SENTENCE, 'en-gb', 1.5);
    expect(rms(pcm)).toBeGreaterThan(500);
    expect(children[0].child.exitCode).toBe(0); // the warm process spoke the first sentence
    expect(children).toHaveLength(2); // and its replacement for the next
  });

  it('warmUp() starts nothing when warm_processes is 0 or after close()', async () => {
    const off = recorded({ warm_processes: 0 });
    off.synth.warmUp('en-us', 1);
    const closed = recorded();
    await closed.synth.close();
    closed.synth.warmUp('en-us', 1);
    await new Promise((r) => setImmediate(r));
    expect(off.children).toHaveLength(0);
    expect(closed.children).toHaveLength(0);
  });

  it('starts a process per sentence and keeps none when warm_processes is 0', async () => {
    const { synth, children } = recorded({ warm_processes: 0 });
    await synthesizeAll(synth, SENTENCE);
    await synthesizeAll(synth, SENTENCE);
    expect(children).toHaveLength(2);
    expect(synth.warmProcesses).toBe(0);
  });

  it('kills a warm process unused for tts.espeak.warm_idle_ms', async () => {
    const { synth, children } = recorded({ warm_idle_ms: 100 });
    await synthesizeAll(synth, SENTENCE);
    const warm = children[1].child;
    expect(synth.warmProcesses).toBe(1);
    await exited(warm);
    expect(warm.signalCode).toBe('SIGKILL');
    expect(synth.warmProcesses).toBe(0);
  });

  it('close() kills every warm process and warms no more', async () => {
    const { synth, children } = recorded({ warm_processes: 3 });
    await synthesizeAll(synth, SENTENCE, 'en-us');
    await synthesizeAll(synth, SENTENCE, 'en-gb');
    const pids = children.map((c) => c.child.pid!);
    await synth.close();
    await Promise.all(children.map((c) => exited(c.child)));
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(synth.warmProcesses).toBe(0);
    await synthesizeAll(synth, SENTENCE); // still speaks, with a process of its own
    expect(synth.warmProcesses).toBe(0);
  });

  it('never speaks with a warm process that died: one killed while waiting still gives the audio', async () => {
    const { synth, children } = recorded();
    await synthesizeAll(synth, SENTENCE);
    // Killed, and the death not yet seen by Node when the next sentence takes it.
    process.kill(children[1].child.pid!, 'SIGKILL');
    const unseen = await synthesizeAll(synth, SENTENCE);
    expect(rms(unseen.pcm)).toBeGreaterThan(500);
    // Killed, and its exit seen: it is dropped, not taken.
    const warm = children.at(-1)!.child;
    warm.kill('SIGKILL');
    await exited(warm);
    expect(synth.warmProcesses).toBe(0);
    expect(rms((await synthesizeAll(synth, SENTENCE)).pcm)).toBeGreaterThan(500);
  });

  it('reports voice and program errors as before, and warms nothing for them', async () => {
    const { synth, children } = recorded();
    for (let i = 0; i < 2; i++) {
      const err = await synthesizeAll(synth, 'Hello.', 'zz-nosuch').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EarshotError);
      expect((err as EarshotError).code).toBe('E_TTS_VOICE');
    }
    expect(children).toHaveLength(2);
    expect(synth.warmProcesses).toBe(0);
    const missing = recorded({ program: 'espeak-ng-not-installed' }).synth;
    const err = await synthesizeAll(missing, 'Hello.').catch((e: unknown) => e);
    expect((err as EarshotError).code).toBe('E_TTS_UNAVAILABLE');
    expect(missing.warmProcesses).toBe(0);
  });

  it('leaves no process behind when Node exits without close(), and does not keep Node running', async () => {
    const script = [
      "const { spawn } = await import('node:child_process');",
      `const { EspeakSynthesizer } = await import(${JSON.stringify(join(REPO_ROOT, 'src/tts/espeak_synthesizer.ts'))});`,
      'const pids = [];',
      "const spawnFn = (p, a) => { const c = spawn(p, a, { stdio: ['pipe', 'pipe', 'pipe'] }); pids.push(c.pid); return c; };",
      "const s = new EspeakSynthesizer({ program: 'espeak-ng', words_per_minute: 175, timeout_ms: 10000, warm_processes: 2, warm_idle_ms: 600000, maxInputChars: 4096 }, spawnFn);",
      "for await (const _ of s.synthesize({ text: 'Hello there.', voice: 'en-us', speed: 1, signal: new AbortController().signal }));",
      'console.log(JSON.stringify({ warm: s.warmProcesses, pid: pids[1] }));',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // A Node kept alive by a waiting process would never exit: stop it and fail rather than leave it running.
    const stuck = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(stuck);
    expect(code).toBe(0); // it exited by itself although a warm process was waiting
    const { warm, pid } = JSON.parse(out) as { warm: number; pid: number };
    expect(warm).toBe(1);
    // The warm espeak-ng read end-of-file on its stdin and exited by itself.
    await waitFor(() => !running(pid), { timeoutMs: 5000, what: 'the espeak-ng process to end' });
  });
});

/** Whether `pid` runs (a zombie waiting to be reaped has finished). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return pidAlive(pid);
  }
}
