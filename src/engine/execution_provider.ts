// Which onnxruntime execution provider runs the model: 'cpu' (bundled) or 'cuda'. onnxruntime-node ships
// its CUDA provider libraries outside the npm package: its install script fetches them when run with
// ONNXRUNTIME_NODE_INSTALL=cuda12, and this project skips that script by default. So 'cuda' is checked
// before any graph is loaded, and a missing provider is refused with the command that installs it,
// instead of onnxruntime's own message (or a silent fall back to the CPU).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { EarshotError } from '../errors.ts';

export type ExecutionProvider = 'cpu' | 'cuda';
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda'];

/** The one command that fetches onnxruntime-node's CUDA 12 provider (from its NuGet package). */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

/** What the host needs besides the provider libraries (onnxruntime 1.30's CUDA 12 build). */
export const CUDA_HOST_REQUIREMENTS = 'an NVIDIA GPU with the CUDA 12 runtime and cuDNN 9 on the library path';

/** Files the install script puts next to onnxruntime-node's binding on linux/x64 (its cuda12 manifest). */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

/** Folder of onnxruntime-node's native binding for this platform. */
export function ortBindingDir(): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Throws E_ENGINE_PROVIDER unless `provider` can be used here (`bindingDir` is overridable for tests). */
export function assertProviderAvailable(provider: ExecutionProvider, bindingDir: string = ortBindingDir()): void {
  if (provider === 'cpu') return;
  if (provider !== 'cuda')
    throw new EarshotError(
      'E_ENGINE_PROVIDER',
      `Unknown execution provider "${String(provider)}" (expected ${EXECUTION_PROVIDERS.join(' or ')}).`,
    );
  if (`${process.platform}/${process.arch}` !== 'linux/x64') {
    throw new EarshotError(
      'E_ENGINE_PROVIDER',
      `The CUDA execution provider of onnxruntime-node is installed on linux/x64 only, not ${process.platform}/${process.arch}.`,
    );
  }
  const missing = CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(bindingDir, f)));
  if (missing.length > 0) {
    throw new EarshotError(
      'E_ENGINE_PROVIDER',
      `The CUDA execution provider is not installed (${missing.join(', ')} missing in ${bindingDir}). ` +
        `Install it with: ${CUDA_INSTALL_COMMAND} (the host needs ${CUDA_HOST_REQUIREMENTS}).`,
    );
  }
}

/** Session options selecting the provider (onnxruntime places nodes CUDA cannot run on the CPU). */
export function providerSessionOptions(provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
  return provider === 'cuda' ? { executionProviders: ['cuda'] } : {};
}
