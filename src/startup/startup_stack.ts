// The server's start-up as a stack of parts that each own their release: a part's release is registered
// only once the part started, and a failure at any later step releases everything started before it, in
// reverse order. Shutdown (after draining) releases the same stack, so there is one release path.
import type { Logger } from '../observability/logger.ts';

/** The steps of startServer, in order (names for the test hook, the log and the release report). */
export const STARTUP_STEPS = [
  'agents',
  'engine',
  'services',
  'store',
  'retention',
  'vad',
  'engine_stats',
  'voice',
  'load_monitors',
  'openai_api',
  'webrtc',
  'listen',
] as const;
export type StartupStep = (typeof STARTUP_STEPS)[number];

/** Test hooks: fail a step before it runs, and see which parts were released. */
export interface StartupHooks {
  /** Called before each step; a throw fails the start there, as a real failure of that step would. */
  beforeStep?(step: StartupStep): void;
  /** Called after each part's release ran (or failed and was logged). */
  released?(step: StartupStep): void;
}

interface Part {
  step: StartupStep;
  release(): void | Promise<void>;
}

export class StartupStack {
  private readonly parts: Part[] = [];
  private releasing: Promise<void> | null = null;

  constructor(
    private readonly log: Logger,
    private readonly hooks: StartupHooks = {},
  ) {}

  /** Runs one step; `release` (if any) is registered once `start` succeeded. */
  async step<T>(
    step: StartupStep,
    start: () => T | Promise<T>,
    release?: (value: T) => void | Promise<void>,
  ): Promise<T> {
    this.hooks.beforeStep?.(step);
    const value = await start();
    if (release) this.parts.push({ step, release: () => release(value) });
    return value;
  }

  /** Releases every started part, last first; a failing release is logged and the others still run. Idempotent. */
  releaseAll(): Promise<void> {
    this.releasing ??= (async () => {
      for (let part = this.parts.pop(); part; part = this.parts.pop()) {
        try {
          await part.release();
        } catch (err) {
          this.log.error({ err, step: part.step }, 'release failed');
        }
        this.hooks.released?.(part.step);
      }
    })();
    return this.releasing;
  }
}
