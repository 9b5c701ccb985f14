// espeak-ng as a child process (its GPL code never enters Earshot's process). `--stdout` writes a WAV:
// a 44-byte header whose sizes are placeholders (0x7ffff000, it streams), then 22,050 Hz s16le mono PCM in
// pipe-sized pieces as it is produced, so the first audio arrives ~40 ms after spawn. The text goes on
// stdin (`--stdin`), never on the command line, so text starting with "-" cannot be read as an option.
import { spawn } from 'node:child_process';
import { type EspeakProcess, EspeakProcessPool, killProcess, type SpawnEspeak } from './espeak_pool.ts';
import { sharedProcessLauncher } from './process_launcher.ts';
import { EarshotError } from '../errors.ts';
import type { TtsEspeakConfig } from '../config/tts_schema.ts';
import type { PcmChunk, SynthesisRequest, Synthesizer } from './synthesizer.ts';

export const ESPEAK_SAMPLE_RATE_HZ = 22_050;
const WAV_HEADER_BYTES = 44;
const MIN_WPM = 80;
const MAX_WPM = 450;

/** English espeak voices and variants (+fN female, +mN male timbres); any other espeak voice id is accepted too. */
const ENGLISH_VOICES = [
  'en-us',
  'en-gb',
  'en-gb-scotland',
  'en-gb-x-rp',
  'en-029',
  'en-us+f2',
  'en-us+f3',
  'en-us+f4',
  'en-us+m1',
  'en-us+m2',
  'en-us+m3',
  'en-gb+f2',
  'en-gb+m2',
  'en-gb+m4',
];
// espeak voice ids: a language tag with an optional +variant. Anything else never reaches the command line.
const VOICE_ID = /^[a-z]{2,3}(-[a-z0-9]{1,8})*(\+[a-z0-9]{1,16})?$/i;

export interface EspeakOptions extends TtsEspeakConfig {
  maxInputChars: number;
}

/** espeak-ng -s value for a speed factor (1 = the configured rate), clamped to what espeak accepts. */
export function espeakWordsPerMinute(speed: number, baseWordsPerMinute: number): number {
  return Math.min(MAX_WPM, Math.max(MIN_WPM, Math.round(baseWordsPerMinute * speed)));
}

/** A process that did not start: the program is missing (ENOENT, EACCES), or its start failed otherwise. */
function startFailure(program: string, cause: unknown): EarshotError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES') return missingProgram(program, cause);
  return new EarshotError('E_TTS_ENGINE', `espeak-ng could not be started: ${(cause as Error).message}`, {
    cause,
    retryable: true,
  });
}

function missingProgram(program: string, cause?: unknown): EarshotError {
  return new EarshotError(
    'E_TTS_UNAVAILABLE',
    `The voice engine program "${program}" is not installed or not on PATH. Install it (Debian/Ubuntu: apt install espeak-ng; macOS: brew install espeak-ng) or set tts.espeak.program.`,
    { cause },
  );
}

/** Resolves when `program --version` runs; rejects with E_TTS_UNAVAILABLE (saying how to fix it) otherwise. */
export function checkEspeakInstalled(program: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.on('error', (err) => reject(missingProgram(program, err)));
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(missingProgram(program))));
  });
}

export class EspeakSynthesizer implements Synthesizer {
  readonly name = 'espeak' as const;
  private readonly options: EspeakOptions;
  private readonly pool: EspeakProcessPool;
  private readonly running = new Set<EspeakProcess>();

  constructor(options: EspeakOptions, spawnFn?: SpawnEspeak) {
    this.options = options;
    this.pool = new EspeakProcessPool({
      program: options.program,
      maxIdle: options.warm_processes,
      idleMs: options.warm_idle_ms,
      ...(spawnFn ? { spawn: spawnFn } : {}),
    });
    // The launcher's helper starts now, not in front of the first sentence (it takes ~0.2 s to start).
    if (!spawnFn) sharedProcessLauncher().start();
  }

  /** espeak-ng processes speaking now (each in-flight synthesis has one). */
  get runningProcesses(): number {
    return this.running.size;
  }

  /** Warm espeak-ng processes waiting for their text. */
  get warmProcesses(): number {
    return this.pool.idleProcesses;
  }

  /** espeak-ng processes started so far, warm or not. */
  get processesStarted(): number {
    return this.pool.spawns;
  }

  voices(): readonly string[] {
    return ENGLISH_VOICES;
  }

  /** Starts a warm process for the voice and speed once the caller's current work is done. */
  warmUp(voice: string, speed: number): void {
    const wpm = espeakWordsPerMinute(speed, this.options.words_per_minute);
    setImmediate(() => this.pool.warmUp(voice, wpm));
  }

  async *synthesize(request: SynthesisRequest): AsyncGenerator<PcmChunk> {
    validate(request, this.options.maxInputChars);
    if (request.signal.aborted || request.text.trim() === '') return;
    const wpm = espeakWordsPerMinute(request.speed, this.options.words_per_minute);
    const proc = this.pool.take(request.voice, wpm);
    let audio = false;
    try {
      for await (const chunk of this.speak(proc, request)) {
        // The replacement starts after this chunk has gone out: setImmediate runs once the consumer's
        // synchronous and promise work on it (resampling, encoding, the socket write) is done.
        if (!audio) setImmediate(() => this.pool.replenish(request.voice, wpm));
        audio = true;
        yield chunk;
      }
    } catch (err) {
      // A warm process that failed before any audio (killed while it waited) is not the caller's problem:
      // a fresh process gives the audio, or the same error a fresh process would have given.
      if (audio || !proc.warm || request.signal.aborted) throw err;
      yield* this.speak(this.pool.fresh(request.voice, wpm), request);
    }
  }

  /** Writes the text to one process and streams its PCM; throws what went wrong once it has exited. */
  private async *speak(proc: EspeakProcess, request: SynthesisRequest): AsyncGenerator<PcmChunk> {
    const { child } = proc;
    this.running.add(proc);
    let timedOut = false;
    const kill = () => killProcess(proc);
    request.signal.addEventListener('abort', kill, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, this.options.timeout_ms);
    child.stdin.end(request.text, 'utf8');
    try {
      yield* pcmAfterHeader(child.stdout as AsyncIterable<Buffer>);
      const code = await proc.exited;
      if (request.signal.aborted) return;
      if (proc.spawnError) throw startFailure(this.options.program, proc.spawnError);
      if (timedOut) {
        throw new EarshotError(
          'E_TTS_ENGINE',
          `espeak-ng took longer than tts.espeak.timeout_ms (${this.options.timeout_ms} ms) and was stopped.`,
          { retryable: true },
        );
      }
      if (code !== 0) throw engineFailure(code, proc.stderr, request.voice);
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', kill);
      kill();
      this.running.delete(proc);
    }
  }

  async close(): Promise<void> {
    this.pool.close();
    for (const proc of this.running) killProcess(proc);
    this.running.clear();
  }
}

function validate(request: SynthesisRequest, maxInputChars: number): void {
  if (request.text.length > maxInputChars) {
    throw new EarshotError(
      'E_TEXT_TOO_LARGE',
      `The text to speak has ${request.text.length} characters; the limit is ${maxInputChars} (tts.max_input_chars).`,
      { param: 'input' },
    );
  }
  if (!VOICE_ID.test(request.voice)) {
    throw new EarshotError(
      'E_TTS_VOICE',
      `"${request.voice}" is not an espeak-ng voice id (e.g. en-us, en-gb, en-us+f3).`,
      { param: 'voice' },
    );
  }
}

function engineFailure(code: number | null, stderr: string, voice: string): EarshotError {
  if (/voice does not exist/i.test(stderr)) {
    return new EarshotError('E_TTS_VOICE', `espeak-ng has no voice "${voice}" (espeak-ng --voices lists them).`, {
      param: 'voice',
    });
  }
  return new EarshotError('E_TTS_ENGINE', `espeak-ng exited with status ${code}: ${stderr.trim() || 'no message'}`);
}

/** The PCM after the 44-byte WAV header, as whole s16 samples (an odd byte waits for the next piece). */
async function* pcmAfterHeader(stdout: AsyncIterable<Buffer>): AsyncGenerator<PcmChunk> {
  let headerLeft = WAV_HEADER_BYTES;
  let carry: Buffer | null = null;
  for await (const piece of stdout) {
    let bytes = piece;
    if (headerLeft > 0) {
      const skip = Math.min(headerLeft, bytes.length);
      headerLeft -= skip;
      bytes = bytes.subarray(skip);
    }
    if (carry) {
      bytes = Buffer.concat([carry, bytes]);
      carry = null;
    }
    const whole = bytes.length & ~1;
    if (whole < bytes.length) carry = Buffer.from(bytes.subarray(whole));
    if (whole === 0) continue;
    const pcm = new Int16Array(whole / 2);
    Buffer.from(pcm.buffer).set(bytes.subarray(0, whole)); // copy: aligned, and little-endian like x86/ARM hosts
    yield { pcm, sampleRateHz: ESPEAK_SAMPLE_RATE_HZ };
  }
}
