import { randomBytes } from 'node:crypto';
import type { FakeHubFile } from './fake_hub.ts';

// Repository layouts for the fake hub: one export folder as published (the files the engine uses, the vision
// files, files nobody uses) placed under any folder name, so a test can build the layouts pull must tell apart.

export const GENAI_CONFIG = JSON.stringify({
  model: {
    type: 'phi4mm',
    decoder: { filename: 'phi-4-mm-text.onnx' },
    embedding: { filename: 'phi-4-mm-embedding.onnx' },
    speech: {
      filename: 'phi-4-mm-speech.onnx',
      config_filename: 'speech_processor.json',
      adapter_filename: 'phi-4-mm-speech.onnx_adapter',
    },
    vision: {
      filename: 'phi-4-mm-vision.onnx',
      config_filename: 'vision_processor.json',
      adapter_filename: 'phi-4-mm-vision.onnx_adapter',
    },
  },
});

/** Files the engine uses, as in the published export (small random contents). */
export const ENGINE_FILES = [
  'genai_config.json',
  'phi-4-mm-embedding.onnx',
  'phi-4-mm-embedding.onnx.data',
  'phi-4-mm-speech.onnx',
  'phi-4-mm-speech.onnx.data',
  'phi-4-mm-speech.onnx_adapter',
  'phi-4-mm-text.onnx',
  'phi-4-mm-text.onnx.data',
  'speech_processor.json',
  'tokenizer.json',
  'tokenizer_config.json',
];
export const VISION_FILES = [
  'phi-4-mm-vision.onnx',
  'phi-4-mm-vision.onnx.data',
  'phi-4-mm-vision.onnx_adapter',
  'vision_processor.json',
];

export function variantFiles(folder: string): Record<string, FakeHubFile> {
  const small = (n: number): FakeHubFile => ({ content: randomBytes(n), lfs: true });
  return {
    [`${folder}/genai_config.json`]: { content: Buffer.from(GENAI_CONFIG) },
    [`${folder}/phi-4-mm-text.onnx.data`]: small(300_000),
    [`${folder}/phi-4-mm-text.onnx`]: small(40_000),
    [`${folder}/phi-4-mm-embedding.onnx`]: small(3_000),
    [`${folder}/phi-4-mm-embedding.onnx.data`]: small(20_000),
    [`${folder}/phi-4-mm-speech.onnx`]: small(5_000),
    [`${folder}/phi-4-mm-speech.onnx.data`]: small(30_000),
    [`${folder}/phi-4-mm-speech.onnx_adapter`]: small(9_000),
    [`${folder}/speech_processor.json`]: { content: Buffer.from('{"feature_extraction":{}}') },
    [`${folder}/tokenizer.json`]: { content: Buffer.from('{"version":"1.0"}') },
    [`${folder}/tokenizer_config.json`]: { content: Buffer.from('{}') },
    // Left on the hub unless asked for (vision) or never used by the engine.
    [`${folder}/phi-4-mm-vision.onnx`]: small(4_000),
    [`${folder}/phi-4-mm-vision.onnx.data`]: small(50_000),
    [`${folder}/phi-4-mm-vision.onnx_adapter`]: small(7_000),
    [`${folder}/vision_processor.json`]: { content: Buffer.from('{}') },
    [`${folder}/special_tokens_map.json`]: { content: Buffer.from('{}') },
    [`${folder}/extra/nested/readme.txt`]: { content: Buffer.from('nested file without lfs\n') },
    // Files outside the variant folder must never be fetched.
    'README.md': { content: Buffer.from('# card\n') },
    'onnx/builder.py': { content: Buffer.from('# export script\n') },
  };
}
