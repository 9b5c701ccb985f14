// Entry of the Kokoro worker thread. Worker threads do not inherit the main thread's module loader hooks,
// so the TypeScript sources are loaded through tsx's API here (no build step, like the engine worker).
import { register } from 'tsx/esm/api';

register();
await import('./kokoro_worker.ts');
