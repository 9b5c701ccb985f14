#!/usr/bin/env node
// `npm run build`: bundles the browser client into .cache/client/ (the server also builds it on the
// first request when that directory is missing). Sources are TypeScript, loaded through tsx like the CLI.
import { register } from 'tsx/esm/api';

register();
const { buildClient } = await import('./build_client.ts');
const { outDir, files } = await buildClient({ minify: !process.argv.includes('--no-minify') });
process.stdout.write(`browser client built: ${files.length} files in ${outDir}\n`);
