// Entry of the time-to-first-audio benchmark's client thread. Worker threads do not inherit the main
// thread's module loader hooks, so the TypeScript sources are loaded through tsx's API here.
import { register } from 'tsx/esm/api';

register();
const { runClientWorker } = await import('./ttfa_client.ts');
await runClientWorker();
