// Reads an audio file of any format Earshot understands: WAV in-process (wav.ts), MP3, FLAC and Ogg through
// WebAssembly decoders (compressed_audio.ts), and anything else (M4A/AAC, WebM, ...) through ffmpeg when it
// is on the PATH. The container is recognised from the bytes, not the file name.
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { EarshotError } from '../errors.ts';
import { decodeCompressed, sniffContainer, type AudioContainer, type DecodedAudio } from './compressed_audio.ts';
import { readWav } from './wav.ts';
import { wavAs16k } from './wav_input.ts';

/** Sample rate ffmpeg decodes to: the pipeline's rate, so nothing is resampled twice. */
const FFMPEG_OUTPUT_RATE_HZ = 16_000;
/** Longest decoded audio accepted from ffmpeg: 4 hours of 16 kHz float32 mono is 922 MB. */
export const MAX_DECODED_AUDIO_SECONDS = 4 * 3600;

export interface AudioFile extends DecodedAudio {
  container: AudioContainer;
}

/** Checks that PATH names a readable regular file; the error names it. Cheap: no decoding. */
export async function assertReadableFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile())
      throw new EarshotError('E_AUDIO_UNREADABLE', `${path}: the file cannot be read (not a regular file)`);
  } catch (error) {
    if (error instanceof EarshotError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new EarshotError('E_FILE_NOT_FOUND', `audio file not found: ${path}`, { cause: error });
    throw new EarshotError('E_AUDIO_UNREADABLE', `${path}: the file cannot be read (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** Reads and decodes PATH; every failure names the file and has a stable code. */
export async function readAudioFile(path: string): Promise<AudioFile> {
  await assertReadableFile(path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new EarshotError('E_AUDIO_UNREADABLE', `${path}: the file cannot be read (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    // A file named .wav that is not RIFF/WAVE gets the WAV reader's own diagnosis, not an ffmpeg attempt.
    return await decodeAudioBytes(bytes, () =>
      /\.wav$/i.test(path) ? Promise.resolve(wavChannels(bytes)) : decodeWithFfmpeg(path),
    );
  } catch (error) {
    if (error instanceof EarshotError)
      throw new EarshotError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Decodes in-memory audio bytes; `fallback` handles containers without an in-process decoder. */
export async function decodeAudioBytes(bytes: Uint8Array, fallback: () => Promise<DecodedAudio>): Promise<AudioFile> {
  const container = sniffContainer(bytes);
  switch (container) {
    case 'wav': {
      const wav = readWav(bytes);
      return { container, sampleRateHz: wav.sampleRateHz, channels: wav.channels };
    }
    case 'mp3':
    case 'flac':
    case 'ogg-vorbis':
    case 'ogg-opus':
      return { container, ...(await decodeCompressed(bytes, container)) };
    default:
      return { container, ...(await fallback()) };
  }
}

function wavChannels(bytes: Uint8Array): DecodedAudio {
  const wav = readWav(bytes);
  return { sampleRateHz: wav.sampleRateHz, channels: wav.channels };
}

/** Decodes any file ffmpeg reads to 16 kHz mono float32; a clear error when ffmpeg is not installed. */
export function decodeWithFfmpeg(
  path: string,
  ffmpegPath = process.env.EARSHOT_FFMPEG ?? 'ffmpeg',
): Promise<DecodedAudio> {
  const maxBytes = MAX_DECODED_AUDIO_SECONDS * FFMPEG_OUTPUT_RATE_HZ * 4;
  return new Promise((resolve, reject) => {
    const args = [
      '-nostdin',
      '-v',
      'error',
      '-i',
      path,
      '-ac',
      '1',
      '-ar',
      String(FFMPEG_OUTPUT_RATE_HZ),
      '-f',
      'f32le',
      '-',
    ];
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let received = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) child.kill('SIGKILL');
      else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      const missing = error.code === 'ENOENT';
      reject(
        new EarshotError(
          'E_UNSUPPORTED_FORMAT',
          missing
            ? 'this format is not WAV, MP3, FLAC or Ogg; install ffmpeg (e.g. apt-get install ffmpeg) to read it, or convert it to WAV'
            : `ffmpeg could not be started: ${error.message}`,
          { cause: error },
        ),
      );
    });
    child.on('close', (code) => {
      if (received > maxBytes)
        return reject(
          new EarshotError('E_AUDIO_TOO_LONG', `the audio is longer than ${MAX_DECODED_AUDIO_SECONDS / 3600} hours`),
        );
      if (code !== 0)
        return reject(
          new EarshotError(
            'E_AUDIO_UNREADABLE',
            `ffmpeg cannot decode it: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`,
          ),
        );
      const all = Buffer.concat(chunks);
      const samples = new Float32Array(all.buffer, all.byteOffset, Math.floor(all.length / 4)).slice();
      if (samples.length === 0)
        return reject(new EarshotError('E_AUDIO_UNREADABLE', 'ffmpeg decoded no audio from it'));
      resolve({ sampleRateHz: FFMPEG_OUTPUT_RATE_HZ, channels: [samples] });
    });
  });
}

/**
 * An audio file as the pipeline hears it: clipped to [-1, 1] as a conversion to PCM16 would (the live
 * pipeline only hears PCM16-range audio), channels averaged, resampled to 16 kHz with the streaming
 * resampler's arithmetic. True 8 kHz audio is also returned as is, for the model's telephony path.
 */
export async function readAudioFileAs16k(
  path: string,
): Promise<{ samples16k: Float32Array; samples8k?: Float32Array; container: AudioContainer }> {
  return as16k(await readAudioFile(path));
}

/**
 * Uploaded audio bytes (HTTP APIs) as the pipeline hears them: WAV, MP3, FLAC or Ogg; anything else is
 * E_UNSUPPORTED_FORMAT (bytes are never handed to an external program).
 */
export async function decodeUploadAs16k(
  bytes: Uint8Array,
): Promise<{ samples16k: Float32Array; samples8k?: Float32Array; container: AudioContainer }> {
  const audio = await decodeAudioBytes(bytes, () => {
    throw new EarshotError('E_UNSUPPORTED_FORMAT', 'The audio is not WAV, MP3, FLAC or Ogg (Vorbis or Opus).');
  });
  return as16k(audio);
}

function as16k(audio: AudioFile): { samples16k: Float32Array; samples8k?: Float32Array; container: AudioContainer } {
  // Decoded audio is float: wavAs16k clips it, mixes, resamples and keeps true 8 kHz as the WAV path does.
  return {
    ...wavAs16k({ sampleRateHz: audio.sampleRateHz, channels: audio.channels, encoding: 'float32' }),
    container: audio.container,
  };
}
