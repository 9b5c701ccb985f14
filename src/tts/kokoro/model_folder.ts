import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EarshotError } from '../../errors.ts';
import { parseVocab, MAX_TOKENIZER_JSON_BYTES, type KokoroVocab } from './tokenizer.ts';

// A Kokoro model folder in the hub repository's layout (onnx-community/Kokoro-82M-v1.0-ONNX):
//   onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_quantized.onnx, ... (precision variants)
//   voices/<name>.bin   510 x 256 float32 style rows per voice
//   tokenizer.json      the phoneme vocabulary
// Model folders are an input boundary: every mismatch is reported with E_MODEL_MISSING or E_MODEL_INVALID
// and the file that caused it.

export const STYLE_DIM = 256;
export const VOICE_ROWS = 510;
export const VOICE_FILE_BYTES = VOICE_ROWS * STYLE_DIM * 4;
export const TOKENIZER_FILE = 'tokenizer.json';

/** Precision variants Earshot may run, by file name under onnx/. */
export const KOKORO_PRECISIONS = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
} as const;
export type KokoroPrecision = keyof typeof KOKORO_PRECISIONS;
export const KOKORO_PRECISION_NAMES = Object.keys(KOKORO_PRECISIONS) as KokoroPrecision[];

/**
 * Variants never tried: int8 weights with float16 activations are reported to crash onnxruntime's CPU
 * provider (q8f16), and the other mixed ones are left out with it since a native crash would take the
 * whole process down, not just the speed check.
 */
export const SKIPPED_VARIANT_FILES = ['model_q8f16.onnx', 'model_q4f16.onnx', 'model_uint8f16.onnx'];

export interface KokoroVariant {
  precision: KokoroPrecision;
  path: string;
}

export interface KokoroFolder {
  dir: string;
  variants: KokoroVariant[];
  /** Variant files present but never run (see SKIPPED_VARIANT_FILES). */
  skipped: string[];
  voices: Map<string, string>;
  vocab: KokoroVocab;
}

/** True when the folder lacks a file every Kokoro folder needs (a pull would complete it). */
export function kokoroFolderIncomplete(dir: string): boolean {
  if (!existsSync(join(dir, TOKENIZER_FILE))) return true;
  const onnx = join(dir, 'onnx');
  if (!existsSync(onnx) || !Object.values(KOKORO_PRECISIONS).some((f) => existsSync(join(onnx, f)))) return true;
  const voices = join(dir, 'voices');
  return !existsSync(voices) || !readdirSync(voices).some((f) => f.endsWith('.bin'));
}

function readVoices(dir: string): Map<string, string> {
  const voicesDir = join(dir, 'voices');
  if (!existsSync(voicesDir))
    throw new EarshotError('E_MODEL_MISSING', `${voicesDir} does not exist: a Kokoro folder needs voices/<name>.bin.`);
  const voices = new Map<string, string>();
  for (const file of readdirSync(voicesDir)
    .filter((f) => f.endsWith('.bin'))
    .sort()) {
    const path = join(voicesDir, file);
    const size = statSync(path).size;
    if (size !== VOICE_FILE_BYTES) {
      throw new EarshotError(
        'E_MODEL_INVALID',
        `${path} is ${size} bytes; a Kokoro voice is ${VOICE_ROWS} x ${STYLE_DIM} float32 (${VOICE_FILE_BYTES} bytes).`,
      );
    }
    voices.set(file.slice(0, -'.bin'.length), path);
  }
  if (voices.size === 0) throw new EarshotError('E_MODEL_MISSING', `${voicesDir} holds no voice (.bin) file.`);
  return voices;
}

/** Checks the folder's files (not the graphs: those are checked when loaded) and reads the vocabulary. */
export function readKokoroFolder(dir: string): KokoroFolder {
  if (!existsSync(dir))
    throw new EarshotError(
      'E_MODEL_MISSING',
      `The Kokoro folder ${dir} does not exist (earshot model pull kokoro fetches it).`,
    );
  const tokenizerPath = join(dir, TOKENIZER_FILE);
  if (!existsSync(tokenizerPath))
    throw new EarshotError('E_MODEL_MISSING', `${tokenizerPath} is missing (the phoneme vocabulary).`);
  if (statSync(tokenizerPath).size > MAX_TOKENIZER_JSON_BYTES) {
    throw new EarshotError('E_MODEL_INVALID', `${tokenizerPath} is larger than ${MAX_TOKENIZER_JSON_BYTES} bytes.`);
  }
  const vocab = parseVocab(readFileSync(tokenizerPath, 'utf8'), tokenizerPath);
  const onnxDir = join(dir, 'onnx');
  const variants = KOKORO_PRECISION_NAMES.map((precision) => ({
    precision,
    path: join(onnxDir, KOKORO_PRECISIONS[precision]),
  })).filter((v) => existsSync(v.path));
  const skipped = SKIPPED_VARIANT_FILES.filter((f) => existsSync(join(onnxDir, f)));
  if (variants.length === 0) {
    throw new EarshotError(
      'E_MODEL_MISSING',
      `${onnxDir} holds none of ${Object.values(KOKORO_PRECISIONS).join(', ')}${skipped.length > 0 ? ` (only ${skipped.join(', ')}, which Earshot does not run on the CPU)` : ''}.`,
    );
  }
  return { dir, variants, skipped, voices: readVoices(dir), vocab };
}

/** One voice's 510 style rows. */
export function readVoice(path: string): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.length !== VOICE_FILE_BYTES)
    throw new EarshotError('E_MODEL_INVALID', `${path} is ${bytes.length} bytes, not ${VOICE_FILE_BYTES}.`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

interface IoMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

const EXPECTED_INPUTS = [
  { name: 'input_ids', type: 'int64', shape: [1, null] },
  { name: 'style', type: 'float32', shape: [1, STYLE_DIM] },
  { name: 'speed', type: 'float32', shape: [1] },
] as const;

function describeIo(m: IoMetadata): string {
  return `${m.name} ${m.type ?? 'non-tensor'} [${(m.shape ?? []).join(',')}]`;
}

function shapeMatches(actual: readonly (number | string)[] | undefined, expected: readonly (number | null)[]): boolean {
  if (actual === undefined || actual.length !== expected.length) return false;
  return expected.every((e, i) => e === null || actual[i] === e || typeof actual[i] === 'string');
}

/** Checks a loaded graph against Kokoro's contract (names, element types, ranks, fixed sizes). */
export function checkKokoroGraphIo(path: string, inputs: readonly IoMetadata[], outputs: readonly IoMetadata[]): void {
  const problems: string[] = [];
  for (const want of EXPECTED_INPUTS) {
    const got = inputs.find((m) => m.name === want.name);
    if (got === undefined) problems.push(`no input ${want.name}`);
    else if (got.type !== want.type || !shapeMatches(got.shape, want.shape))
      problems.push(`input ${describeIo(got)} (expected ${want.type} [${want.shape.map((d) => d ?? 'T').join(',')}])`);
  }
  const extra = inputs.filter((m) => !EXPECTED_INPUTS.some((e) => e.name === m.name));
  if (extra.length > 0) problems.push(`unexpected inputs ${extra.map((m) => m.name).join(', ')}`);
  const waveform = outputs.find((m) => m.name === 'waveform');
  if (waveform === undefined)
    problems.push(`no output waveform (outputs: ${outputs.map((m) => m.name).join(', ') || 'none'})`);
  else if (
    waveform.type !== 'float32' ||
    (waveform.shape !== undefined && waveform.shape.length !== 2 && waveform.shape.length !== 1)
  )
    problems.push(`output ${describeIo(waveform)} (expected float32 [1,N])`);
  if (problems.length > 0) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `${path} does not have Kokoro's inputs and outputs: ${problems.join('; ')}.`,
    );
  }
}
