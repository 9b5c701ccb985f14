// The engines that live outside this folder's own code, wired in one place so that `earshot serve` and
// `earshot config` agree on which voice engine is in use. The Kokoro engine (src/tts/kokoro/) adds its
// factory here; until then `auto` goes on to espeak-ng.
import type { EarshotConfig } from '../config/schema.ts';
import type { SynthesizerHooks } from './select.ts';

export function synthesizerHooks(_config: EarshotConfig): SynthesizerHooks {
  return {};
}
