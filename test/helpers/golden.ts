import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (test/helpers/ is two levels below it). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Reference audio features of Phi-4-multimodal's front end (three clips, their features and the mel matrix),
 * checked in as small test fixtures so a plain clone tests without anything beside it.
 */
export const GOLDEN_PHI4MM_AUDIO_DIR =
  process.env.EARSHOT_GOLDEN_DIR ?? join(REPO_ROOT, 'test', 'fixtures', 'phi4mm-audio');
