// Entry of the engine worker thread. Worker threads do not inherit the main thread's module loader
// hooks, so the TypeScript sources are loaded through tsx's API here (no build step, like the CLI).
import { register } from 'tsx/esm/api';

register();
await import('./engine_worker.ts');
