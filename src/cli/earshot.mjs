#!/usr/bin/env -S node --single-threaded-gc
// Entry point of the `earshot` command. Sources are TypeScript run through tsx's loader, so
// `npm ci && npm start` works without a build step. Node runs with --single-threaded-gc (as npm start
// and npm run earshot do): src/observability/gc_mode.ts says why.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv);
if (typeof code === 'number') process.exitCode = code;
