// Assembles src/audio/fir_kernel.wat and writes the bytes to src/audio/fir_kernel_bytes.ts (base64), so
// the server needs no assembler at run time. Run: npm run build:wasm
// test/unit/audio/fir_kernel.test.ts checks that the committed bytes are this source's assembly.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const SOURCE_PATH = fileURLToPath(new URL('../src/audio/fir_kernel.wat', import.meta.url));
const OUTPUT_PATH = fileURLToPath(new URL('../src/audio/fir_kernel_bytes.ts', import.meta.url));

export async function assembleFirKernel(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('fir_kernel.wat', readFileSync(SOURCE_PATH, 'utf8'), { simd: true });
  try {
    module.validate();
    return new Uint8Array(module.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

export function renderBytesModule(bytes: Uint8Array): string {
  const base64 = Buffer.from(bytes).toString('base64');
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    '// Generated from fir_kernel.wat by scripts/build_fir_kernel.ts (npm run build:wasm). Do not edit.',
    '// prettier-ignore',
    'export const FIR_KERNEL_WASM_BASE64 =',
    lines.map((line) => `  '${line}'`).join(' +\n') + ';',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await assembleFirKernel();
  writeFileSync(OUTPUT_PATH, renderBytesModule(bytes));
  console.log(`wrote ${OUTPUT_PATH} (${bytes.length} bytes of WebAssembly)`);
}
