// What a file of spoken-answer tests starts once and shares: the real engine (an EngineHost worker) on the
// tiny fixture model biased to write speakable words, a spoken server on it, and optionally a second
// server on the same engine without a voice engine.
import { afterAll, beforeAll } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import type { RunningServer } from '../../../src/main.ts';
import { favouringFixtureModel } from '../../helpers/biased_fixture.ts';
import { SPEAKABLE_TOKEN_IDS, startSpokenServer } from './spoken_server.ts';

/** Started in beforeAll: read the fields inside tests, not at the top of the file. */
export interface SpokenSuite {
  host: EngineHost;
  server: RunningServer;
  /** Only with `textOnly: true`: a server on the same engine with no voice engine. */
  textOnly: RunningServer;
}

/** Starting the engine worker and the fixture model can take minutes on a busy machine. */
const START_TIMEOUT_MS = 300_000;

/**
 * Registers the file's beforeAll/afterAll. `lengthCuts`: the spoken server cuts the answer into pieces by
 * length only (no timer), so one text always gives the same pieces and the same audio.
 */
export function useSpokenSuite(opts: { lengthCuts?: boolean; textOnly?: boolean } = {}): SpokenSuite {
  const suite = {} as SpokenSuite;
  beforeAll(async () => {
    suite.host = createEngineHost({
      modelDir: await favouringFixtureModel(SPEAKABLE_TOKEN_IDS),
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    await suite.host.ready;
    suite.server = await startSpokenServer(
      suite.host,
      opts.lengthCuts
        ? { overrides: { tts: { stream: { first_cut_wait_ms: 10_000, max_sentence_chars: 60 } } as never } }
        : {},
    );
    if (opts.textOnly) suite.textOnly = await startSpokenServer(suite.host, { speak: false });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await suite.server?.close();
    await suite.textOnly?.close();
    await suite.host?.close();
  });
  return suite;
}
