// MP3 for POST /v1/audio/speech through the `lame` program (apt `lame`): raw 24 kHz s16le mono on its
// stdin, MP3 frames streamed from its stdout. A child process like espeak-ng: nothing compiled at install.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EarshotError } from '../errors.ts';
import { sharedProcessLauncher } from './process_launcher.ts';
import { SPEECH_OUTPUT_RATE_HZ } from './synthesizer.ts';

export const MP3_PROGRAM = 'lame';
const MP3_BITRATE_KBPS = 64; // mono speech: transparent enough, 8 KB per second

/** Resolves true when `lame` runs here. */
export function isLameInstalled(program = MP3_PROGRAM): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program, ['--version'], { stdio: 'ignore', timeout: 5000 });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

export interface Mp3Encoder {
  /** MP3 bytes as lame produces them; ends after end() once lame has flushed. */
  readonly output: AsyncIterable<Buffer>;
  /** Queues PCM; resolves when lame's stdin has room again (backpressure). */
  write(pcmBytes: Uint8Array): Promise<void>;
  end(): void;
  kill(): void;
}

export function startMp3Encoder(program = MP3_PROGRAM): Mp3Encoder {
  const khz = String(SPEECH_OUTPUT_RATE_HZ / 1000);
  // Through the launcher: a request must not fork the server (see process_launcher.ts).
  const child: ChildProcessWithoutNullStreams = sharedProcessLauncher().spawn(program, [
    '--quiet',
    '-r',
    '-s',
    khz,
    '--bitwidth',
    '16',
    '--signed',
    '--little-endian',
    '-m',
    'm',
    '-b',
    String(MP3_BITRATE_KBPS),
    '-',
    '-',
  ]);
  let failure: EarshotError | null = null;
  child.on('error', (err) => {
    failure = new EarshotError(
      'E_UNSUPPORTED_FORMAT',
      `mp3 needs the lame program (apt install lame): ${err.message}`,
      { cause: err },
    );
  });
  child.stdin.on('error', () => {}); // EPIPE after a kill: the output side reports the failure
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  async function* output(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
      if (failure) throw failure;
    } finally {
      kill();
    }
  }
  return {
    output: output(),
    write: (pcmBytes) =>
      new Promise((resolve) => {
        if (child.stdin.destroyed || child.stdin.writableEnded) return resolve();
        if (child.stdin.write(pcmBytes)) return resolve();
        const done = () => {
          child.stdin.off('drain', done).off('close', done);
          resolve();
        };
        child.stdin.once('drain', done).once('close', done);
      }),
    end: () => child.stdin.end(),
    kill,
  };
}
