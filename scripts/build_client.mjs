#!/usr/bin/env node
// `npm run build`: bundles the browser client into build/client/. With --if-stale (prestart, pretest) it
// builds only when the folder is missing or older than the client's sources. Sources are TypeScript,
// loaded through tsx like the CLI.
import { register } from 'tsx/esm/api';

register();
const { buildClient, buildClientIfStale } = await import('./build_client.ts');
const minify = !process.argv.includes('--no-minify');
if (process.argv.includes('--if-stale')) {
  if (await buildClientIfStale({ minify })) process.stdout.write('browser client rebuilt (its sources changed)\n');
} else {
  const { outDir, files } = await buildClient({ minify });
  process.stdout.write(`browser client built: ${files.length} files in ${outDir}\n`);
}
