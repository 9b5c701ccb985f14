// Reading an `.onnx_adapter` file from disk. Whether its tensors fit the decoder is decided against the
// graph's LoRA branches (lora_match.ts), never against declared input shapes: the export declares those
// with symbolic sizes, so any rank would seem to fit.

import { readFile } from 'node:fs/promises';
import { EarshotError } from '../../errors.ts';
import { decodeAdapter } from './adapter_format.ts';
import type { AdapterFile } from './adapter_types.ts';

/** Read and parse an `.onnx_adapter` file. */
export async function loadAdapterFile(path: string): Promise<AdapterFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new EarshotError('E_FILE_NOT_FOUND', `Cannot read adapter file ${path}.`, { cause });
  }
  try {
    return decodeAdapter(bytes);
  } catch (error) {
    if (error instanceof EarshotError)
      throw new EarshotError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
