import { Argument, type Command, Option } from 'commander';
import { isEarshotError } from '../../errors.ts';
import {
  DEFAULT_MODEL_VARIANT,
  MODEL_VARIANTS,
  resolveModelDir,
  type ModelVariant,
} from '../../engine/phi4mm/model_location.ts';
import type { FetchImpl } from '../../engine/phi4mm/pull/net.ts';
import { formatBytes, createProgressReporter } from '../../engine/phi4mm/pull/progress.ts';
import { pullModel } from '../../engine/phi4mm/pull/pull.ts';
import { DEFAULT_REVISION, MODEL_REPO_ID } from '../../engine/phi4mm/pull/variants.ts';
import { DEFAULT_KOKORO_PULL_PRECISIONS, parsePrecisions, runKokoroPull } from './model_pull_kokoro.ts';

// `earshot model pull`: thin CLI over pullModel(). The integrator creates the `earshot model` parent command.

/** Seams for tests; production passes nothing. */
export interface ModelPullDeps {
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  fetchImpl?: FetchImpl;
  /** Extra pullModel options (short timeouts and retry delays in tests). */
  pullOverrides?: {
    connectTimeoutMs?: number;
    stallTimeoutMs?: number;
    retry?: { maxRetries?: number; initialDelayMs?: number; maxDelayMs?: number };
  };
}

interface PullFlags {
  variant: ModelVariant;
  dir?: string;
  revision: string;
  withVision?: boolean;
  precisions: ReturnType<typeof parsePrecisions>;
}

export function registerModelPullCommand(model: Command, deps: ModelPullDeps = {}): void {
  model
    .command('pull')
    .description(
      `Download the Phi-4-multimodal ONNX export (${MODEL_REPO_ID}) from the Hugging Face hub: the variant ` +
        'folder is found by listing the repository, only the files the engine uses are fetched, partial downloads ' +
        'resume, sizes and sha256 are verified. HF_ENDPOINT and HF_TOKEN are honoured. `pull kokoro` fetches the Kokoro-82M voice instead.',
    )
    .addArgument(new Argument('[model]', 'what to fetch').choices(['phi4', 'kokoro']).default('phi4'))
    .addOption(
      new Option('--variant <variant>', 'model variant').choices(MODEL_VARIANTS).default(DEFAULT_MODEL_VARIANT),
    )
    .option('--dir <dir>', 'target directory (default: EARSHOT_MODEL, else ~/.cache/earshot/models/...)')
    .option('--revision <revision>', 'hub branch, tag or commit', DEFAULT_REVISION)
    .option('--with-vision', 'also fetch the vision graph, its adapter and processor config (unused for speech)')
    .option(
      '--precisions <list>',
      'kokoro: precision variants to fetch (fp32, fp16, q8, uint8, q4)',
      parsePrecisions,
      DEFAULT_KOKORO_PULL_PRECISIONS,
    )
    .action(async function (this: Command, which: 'phi4' | 'kokoro', flags: PullFlags) {
      const env = deps.env ?? process.env;
      const stdout = deps.stdout ?? process.stdout;
      const stderr = deps.stderr ?? process.stderr;
      if (which === 'kokoro') return pullKokoroFromCli(this, flags, deps);
      const dir = resolveModelDir({ model: flags.dir, variant: flags.variant, env });
      const reporter = createProgressReporter({ stream: stderr });
      // Ctrl-C stops the transfer cleanly; the .part files stay for the next run to resume.
      const controller = new AbortController();
      const onSigint = (): void => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      try {
        const result = await pullModel({
          variant: flags.variant,
          dir,
          revision: flags.revision,
          withVision: flags.withVision === true,
          env,
          signal: controller.signal,
          fetchImpl: deps.fetchImpl,
          onProgress: reporter.onProgress,
          ...deps.pullOverrides,
        });
        const fetched = result.files.filter((f) => !f.skipped);
        const fetchedBytes = fetched.reduce((sum, f) => sum + f.bytes, 0);
        stdout.write(
          `Model ${flags.variant} (${result.folder}@${result.revision}) is complete in ${result.dir}: ` +
            `${fetched.length} file(s) downloaded (${formatBytes(fetchedBytes)}), ${result.files.length - fetched.length} already present` +
            (result.leftOut.length > 0
              ? `; ${result.leftOut.length} file(s) of the folder left on the hub (unused by the engine).\n`
              : '.\n'),
        );
      } catch (err) {
        reporter.stop();
        if (!isEarshotError(err)) throw err;
        // Through commander so the exit code flows back to main() (exitOverride) or to the shell. A failed
        // download is not a usage error: no help text after the message.
        this.showHelpAfterError(false);
        this.error(`error ${err.code}: ${err.message}`, {
          exitCode: err.code === 'E_ABORTED' ? 130 : 1,
          code: err.code,
        });
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

async function pullKokoroFromCli(command: Command, flags: PullFlags, deps: ModelPullDeps): Promise<void> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    await runKokoroPull({
      dir: flags.dir,
      revision: flags.revision,
      precisions: flags.precisions,
      env: deps.env ?? process.env,
      stdout: deps.stdout ?? process.stdout,
      stderr: deps.stderr ?? process.stderr,
      fetchImpl: deps.fetchImpl,
      signal: controller.signal,
      overrides: deps.pullOverrides,
    });
  } catch (err) {
    if (!isEarshotError(err)) throw err;
    command.showHelpAfterError(false);
    command.error(`error ${err.code}: ${err.message}`, {
      exitCode: err.code === 'E_ABORTED' ? 130 : 1,
      code: err.code,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
