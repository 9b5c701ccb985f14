// User-turn texts for the model's trained tasks (docs/model.md, "Tokens and prompts"). The audio part comes first, so
// the engine writes `<|user|><|audio_1|>{text}<|end|><|assistant|>`.

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  fr: 'French',
  de: 'German',
  es: 'Spanish',
  it: 'Italian',
  pt: 'Portuguese',
  nl: 'Dutch',
  ja: 'Japanese',
  zh: 'Chinese',
  ko: 'Korean',
  ru: 'Russian',
  ar: 'Arabic',
  hi: 'Hindi',
  pl: 'Polish',
  sv: 'Swedish',
  tr: 'Turkish',
  da: 'Danish',
  fi: 'Finnish',
  no: 'Norwegian',
  nb: 'Norwegian',
};

/** 'fr' / 'fr-FR' -> 'French'; names pass through ('French'). */
export function languageName(code: string): string {
  const base = code.trim().toLowerCase().split(/[-_]/)[0];
  return LANGUAGE_NAMES[base] ?? code.trim();
}

export interface CaptionTask {
  kind: 'transcribe' | 'translate';
  /** The text after the audio in the user turn. */
  prompt: string;
}

/** Caption prompt from the session's audio.input.transcription settings. */
export function captionTask(
  settings: { language?: string; translate_to?: string; prompt?: string } | null,
): CaptionTask {
  if (settings?.translate_to)
    return { kind: 'translate', prompt: `Translate the audio to ${languageName(settings.translate_to)}.` };
  const base = settings?.language
    ? `Transcribe the ${languageName(settings.language)} audio clip into text.`
    : 'Transcribe the audio clip into text.';
  // A client prompt (vocabulary, names) is appended as context, as Whisper-style prompts are used.
  return { kind: 'transcribe', prompt: settings?.prompt ? `${base} Context: ${settings.prompt}` : base };
}

export const SUMMARY_PROMPT =
  'Summarize this call for the call-center record: the caller, the problem, what was done and any open follow-up. Be brief.';

/** Response tool_choice 'none' while the session prompt lists tools (they stay in the context). */
export const NO_TOOLS_INSTRUCTION = 'For this answer do not call any tool: reply in plain text.';

/** The user turn after an idle timeout (turn_detection.idle_timeout_ms): the audio is the silence. */
export function idlePrompt(silenceMs: number): string {
  return `(The user has said nothing for ${Math.round(silenceMs / 1000)} seconds. Follow up briefly: check whether they are still there or need anything else.)`;
}
