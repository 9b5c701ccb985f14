// Entry of the VAD worker thread: worker threads do not inherit the main thread's loader hooks, so the
// TypeScript sources are loaded through tsx's API here (as for the engine worker).
import { register } from 'tsx/esm/api';

register();
await import('./vad_worker.ts');
