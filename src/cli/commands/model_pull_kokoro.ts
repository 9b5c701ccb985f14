import { InvalidArgumentError } from 'commander';
import { KOKORO_CONFIG_PRECISIONS } from '../../config/kokoro_schema.ts';
import type { FetchImpl } from '../../engine/phi4mm/pull/net.ts';
import { createProgressReporter, formatBytes } from '../../engine/phi4mm/pull/progress.ts';
import type { RetryPolicy } from '../../engine/phi4mm/pull/retry.ts';
import { KOKORO_REPO_ID, resolveKokoroDir } from '../../tts/kokoro/location.ts';
import type { KokoroPrecision } from '../../tts/kokoro/model_folder.ts';
import { pullKokoro } from '../../tts/kokoro/pull.ts';

// `earshot model pull kokoro`: the Kokoro-82M voice files, with the same progress, resume and checks as the
// Phi-4 pull (model_pull.ts hands over here when its argument is `kokoro`).

export const DEFAULT_KOKORO_PULL_PRECISIONS: KokoroPrecision[] = ['fp32', 'q8'];

export function parsePrecisions(value: string): KokoroPrecision[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = names.filter((n) => !(KOKORO_CONFIG_PRECISIONS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0)
    throw new InvalidArgumentError(`precisions are a comma-separated list of ${KOKORO_CONFIG_PRECISIONS.join(', ')}`);
  return names as KokoroPrecision[];
}

export interface KokoroPullRun {
  dir?: string;
  revision: string;
  precisions: KokoroPrecision[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  fetchImpl?: FetchImpl;
  signal: AbortSignal;
  overrides?: { connectTimeoutMs?: number; stallTimeoutMs?: number; retry?: Partial<RetryPolicy> };
}

export async function runKokoroPull(o: KokoroPullRun): Promise<void> {
  const dir = resolveKokoroDir(o.dir, o.env);
  const reporter = createProgressReporter({ stream: o.stderr });
  try {
    const result = await pullKokoro({
      dir,
      precisions: o.precisions,
      revision: o.revision,
      env: o.env,
      signal: o.signal,
      fetchImpl: o.fetchImpl,
      onProgress: reporter.onProgress,
      ...o.overrides,
    });
    const fetched = result.files.filter((f) => !f.skipped);
    o.stdout.write(
      `Kokoro (${KOKORO_REPO_ID}@${o.revision}, ${o.precisions.join(', ')}) is complete in ${dir}: ` +
        `${fetched.length} file(s) downloaded (${formatBytes(fetched.reduce((n, f) => n + f.bytes, 0))}), ${result.files.length - fetched.length} already present.\n`,
    );
  } finally {
    reporter.stop();
  }
}
