// Which voice engine speaks, decided once at startup from tts.engine. `auto`: the remote endpoint when
// tts.remote.url is set, else Kokoro when its hook yields a synthesizer (files present or fetchable), else
// espeak-ng when installed, else none. No engine is not fatal: text answers keep working, and a session
// that asks for audio gets E_TTS_UNAVAILABLE with the fix.
import { EarshotError, isEarshotError } from '../errors.ts';
import type { TtsConfig } from '../config/tts_schema.ts';
import { checkEspeakInstalled, EspeakSynthesizer } from './espeak_synthesizer.ts';
import { RemoteSynthesizer } from './remote_synthesizer.ts';
import type { Synthesizer, SynthesizerName } from './synthesizer.ts';

export interface SynthesizerHooks {
  /** Opens Kokoro (files present, or fetched on first use); null when it cannot run here. */
  kokoro?: () => Promise<Synthesizer | null>;
}

/** What /readyz and `earshot config` show about the voice engine. */
export interface VoiceEngineStatus {
  /** tts.engine as configured. */
  requested: TtsConfig['engine'];
  /** The engine in use, or null. */
  engine: SynthesizerName | null;
  /** Without an engine: why, and how to fix it. With one under `auto`: why the preferred ones were passed over. */
  reason?: string;
  /** The same in fixed words, without paths or URLs, for unauthenticated answers such as /readyz. */
  publicReason?: string;
}

export interface VoiceEngine {
  synthesizer: Synthesizer | null;
  /** Set when synthesizer is null: the error sessions get when they ask for audio. */
  unavailable?: EarshotError;
  status: VoiceEngineStatus;
}

type Attempt = { synthesizer: Synthesizer } | { reason: string; publicReason: string };

const ESPEAK_FIX =
  'install espeak-ng (apt install espeak-ng), or set tts.remote.url (--tts-url) to an OpenAI-compatible speech server';

async function tryEspeak(tts: TtsConfig): Promise<Attempt> {
  try {
    await checkEspeakInstalled(tts.espeak.program);
    return { synthesizer: new EspeakSynthesizer({ ...tts.espeak, maxInputChars: tts.max_input_chars }) };
  } catch (err) {
    return { reason: `espeak-ng: ${(err as Error).message}`, publicReason: 'espeak-ng is not installed' };
  }
}

function tryRemote(tts: TtsConfig): Attempt {
  const url = tts.remote.url;
  if (!url)
    return { reason: 'remote: tts.remote.url (--tts-url) is not set', publicReason: 'tts.remote.url is not set' };
  return { synthesizer: new RemoteSynthesizer({ ...tts.remote, url, maxInputChars: tts.max_input_chars }) };
}

async function tryKokoro(hooks: SynthesizerHooks): Promise<Attempt> {
  if (!hooks.kokoro)
    return { reason: 'kokoro: this build has no Kokoro engine', publicReason: 'kokoro is not available' };
  try {
    const synthesizer = await hooks.kokoro();
    return synthesizer
      ? { synthesizer }
      : {
          reason: 'kokoro: its model files are not present and cannot be fetched',
          publicReason: 'kokoro is not available',
        };
  } catch (err) {
    return {
      reason: `kokoro: ${isEarshotError(err) || err instanceof Error ? err.message : String(err)}`,
      publicReason: 'kokoro failed to load',
    };
  }
}

/** Opens the configured voice engine; never throws for a missing engine (see VoiceEngine.unavailable). */
export async function openSynthesizer(tts: TtsConfig, hooks: SynthesizerHooks = {}): Promise<VoiceEngine> {
  const order: Array<() => Promise<Attempt> | Attempt> =
    tts.engine === 'espeak'
      ? [() => tryEspeak(tts)]
      : tts.engine === 'remote'
        ? [() => tryRemote(tts)]
        : tts.engine === 'kokoro'
          ? [() => tryKokoro(hooks)]
          : [...(tts.remote.url ? [() => tryRemote(tts)] : []), () => tryKokoro(hooks), () => tryEspeak(tts)];
  const reasons: string[] = [];
  const publicReasons: string[] = [];
  for (const attempt of order) {
    const result = await attempt();
    if ('synthesizer' in result) {
      const status: VoiceEngineStatus = { requested: tts.engine, engine: result.synthesizer.name };
      if (reasons.length > 0)
        Object.assign(status, { reason: reasons.join('; '), publicReason: publicReasons.join('; ') });
      return { synthesizer: result.synthesizer, status };
    }
    reasons.push(result.reason);
    publicReasons.push(result.publicReason);
  }
  const fix =
    tts.engine === 'auto' || tts.engine === 'espeak'
      ? ESPEAK_FIX
      : `set tts.engine to auto or espeak, or ${ESPEAK_FIX}`;
  const reason = `No voice engine (tts.engine=${tts.engine}): ${reasons.join('; ')}. To fix: ${fix}.`;
  return {
    synthesizer: null,
    unavailable: new EarshotError(
      'E_TTS_UNAVAILABLE',
      `Audio output is unavailable. ${reason} Text output keeps working.`,
    ),
    status: {
      requested: tts.engine,
      engine: null,
      reason,
      publicReason: `${publicReasons.join('; ')} (tts.engine=${tts.engine}; \`earshot config\` says more)`,
    },
  };
}

/** A voice engine that is missing on purpose (tests, or a caller that passes none). */
export function noVoiceEngine(tts: TtsConfig, why: string): VoiceEngine {
  return {
    synthesizer: null,
    unavailable: new EarshotError('E_TTS_UNAVAILABLE', `Audio output is unavailable: ${why}`),
    status: { requested: tts.engine, engine: null, reason: why, publicReason: why },
  };
}
