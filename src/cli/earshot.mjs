#!/usr/bin/env node
// Entry point of the `earshot` command. Sources are TypeScript run through tsx's loader, so
// `npm ci && npm start` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv);
if (typeof code === 'number') process.exitCode = code;
