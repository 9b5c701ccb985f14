import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (test/helpers/ is two levels below it). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Reference data lives in shared/ beside the repository (as laid out for developers and CI). */
export const GOLDEN_PHI4MM_AUDIO_DIR = process.env.EARSHOT_GOLDEN_DIR ?? join(REPO_ROOT, '..', 'shared', 'golden', 'phi4mm-audio');
