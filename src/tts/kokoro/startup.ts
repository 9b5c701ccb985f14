import type { TtsConfig } from '../../config/tts_schema.ts';
import type { EarshotMetrics } from '../../observability/metrics.ts';
import { checkEspeakInstalled, EspeakSynthesizer } from '../espeak_synthesizer.ts';
import { openSynthesizer, type VoiceEngine } from '../select.ts';
import type { Synthesizer } from '../synthesizer.ts';
import { resolveKokoroDir } from './location.ts';
import { kokoroFolderIncomplete } from './model_folder.ts';
import { openKokoroSynthesizer, type KokoroLog, type OpenKokoroDeps } from './open.ts';

// Startup's voice engine with Kokoro wired in (tts/select.ts's hooks.kokoro). Kokoro opens at once when its
// folder is complete. When it is not and a first-use fetch is allowed (`earshot serve`), the files are
// fetched in the background like the Phi-4 model: the server starts with the next engine in line (espeak),
// and Kokoro replaces it, without a restart, once the files are in and the speed check has run.

export interface VoiceStartupDeps {
  log: KokoroLog;
  metrics: EarshotMetrics;
  env?: Record<string, string | undefined>;
  /** Present for `earshot serve` only (tests and benchmarks never reach the network). */
  autoPull?: Pick<OpenKokoroDeps, 'endpoint' | 'fetchImpl' | 'pullTimeouts' | 'onPullProgress'>;
  /** Told when a background fetch has put Kokoro in place (the VoiceEngine object was updated). */
  onKokoroReady?: (kokoro: Synthesizer) => void;
}

async function espeakFallback(tts: TtsConfig): Promise<Synthesizer | undefined> {
  try {
    await checkEspeakInstalled(tts.espeak.program);
    return new EspeakSynthesizer({ ...tts.espeak, maxInputChars: tts.max_input_chars });
  } catch {
    return undefined; // Kokoro then speaks late rather than not at all
  }
}

/**
 * The espeak voice that stands in for a Kokoro voice: the one the tts.voices table pairs with it, else by
 * Kokoro's prefix (a/b = American/British, f/m = female/male).
 */
export function espeakVoiceFor(tts: TtsConfig, kokoroVoice: string): string {
  for (const ids of Object.values(tts.voices))
    if (ids.kokoro === kokoroVoice && ids.espeak !== undefined) return ids.espeak;
  const accent = kokoroVoice.startsWith('b') ? 'en-gb' : 'en-us';
  return kokoroVoice[1] === 'm' ? `${accent}+m3` : kokoroVoice[1] === 'f' ? `${accent}+f3` : accent;
}

/** Opens the configured voice engine; the returned object is updated in place if Kokoro arrives later. */
export async function openVoiceEngine(tts: TtsConfig, deps: VoiceStartupDeps): Promise<VoiceEngine> {
  const env = deps.env ?? process.env;
  const kokoroDeps = async (): Promise<OpenKokoroDeps> => ({
    log: deps.log,
    env,
    espeakProgram: tts.espeak.program,
    fallback: await espeakFallback(tts),
    countFallback: (reason) => deps.metrics.ttsKokoroFallbacks.inc({ reason }),
    fallbackVoice: (voice) => espeakVoiceFor(tts, voice),
  });
  const dir = resolveKokoroDir(tts.kokoro.dir, env);
  const fetchLater =
    kokoroFolderIncomplete(dir) &&
    tts.kokoro.auto_pull &&
    deps.autoPull !== undefined &&
    tts.engine !== 'espeak' &&
    tts.engine !== 'remote';
  const voice = await openSynthesizer(tts, {
    kokoro: async () =>
      fetchLater ? null : openKokoroSynthesizer({ ...tts.kokoro, auto_pull: false }, await kokoroDeps()),
  });
  if (fetchLater && !(voice.synthesizer !== null && voice.synthesizer.name === 'remote')) {
    void (async () => {
      const kokoro = await openKokoroSynthesizer(tts.kokoro, { ...(await kokoroDeps()), ...deps.autoPull });
      if (kokoro === null) return;
      const previous = voice.synthesizer;
      voice.synthesizer = kokoro;
      voice.unavailable = undefined;
      voice.status = { requested: tts.engine, engine: 'kokoro' };
      deps.log.info(
        { replaced: previous?.name ?? null },
        'kokoro: fetched on first use; spoken answers now use Kokoro',
      );
      deps.onKokoroReady?.(kokoro);
      // The replaced espeak engine holds no resources beyond its running children, which finish by themselves.
    })().catch((err: unknown) =>
      deps.log.warn({ error: (err as Error).message }, 'kokoro: could not be opened after the first-use fetch'),
    );
  }
  return voice;
}
