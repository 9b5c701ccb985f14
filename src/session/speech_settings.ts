// A session's spoken-answer settings: output_modalities, audio.output.{format, voice, speed}, their
// per-response overrides, and OpenAI's rule that the voice cannot change once the session has answered
// with audio. Without a voice engine the session stays text-only: asking for audio output is answered
// with the engine's E_TTS_UNAVAILABLE (how to fix it) and the rest of the update still applies.
import { EarshotError } from '../errors.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import type { AudioFormat, Modality, SessionAudioOutput } from '../protocol/server_session.ts';
import type { WireAudioFormat, WireSessionConfig } from '../protocol/session_schema.ts';
import type { SpeechStream } from '../tts/synthesizer.ts';
import { SPEECH_OUTPUT_RATE_HZ } from '../tts/synthesizer.ts';

/** What a connection needs of the voice engine (built by the composition root from tts/). */
export interface SessionSpeechService {
  /** The engine voice for a wire voice (an OpenAI name through the config table, or an engine voice id); null when unknown. */
  resolveVoice(voice: string): string | null;
  /** Voice names a client may send, for the error message. */
  voiceNames(): readonly string[];
  /** The voice a session speaks with until it chooses one (OpenAI: 'alloy'). */
  defaultVoice: string;
  /** One answer's stream, in an engine voice. */
  openStream(engineVoice: string, speed: number): SpeechStream;
  /** The session will speak with this engine voice and speed: the engine may start work ahead (a hint). */
  warmUp?(engineVoice: string, speed: number): void;
}

export interface SessionSpeechOptions {
  service: SessionSpeechService | null;
  /** Why there is no service (E_TTS_UNAVAILABLE, with the fix). */
  unavailable?: EarshotError;
}

export const MIN_SPEED = 0.25;
export const MAX_SPEED = 1.5;

/** What one response speaks with; null modalities/voice fields fall back to the session's. */
export interface ResolvedSpeech {
  audio: boolean;
  format: AudioFormat;
  engineVoice: string;
  speed: number;
}

export class SpeechSettings {
  modalities: Modality[] = ['text'];
  format: AudioFormat = { type: 'audio/pcm', rate: SPEECH_OUTPUT_RATE_HZ };
  voice: string;
  speed = 1;
  /** The session has answered with audio: its voice is fixed from now on. */
  private spoken = false;
  /** The engine was told once that this session will speak (warmUpEngine). */
  private engineWarmed = false;

  constructor(private readonly opts: SessionSpeechOptions) {
    this.voice = opts.service?.defaultVoice ?? 'alloy';
  }

  get available(): boolean {
    return this.opts.service !== null;
  }

  /** The session answered with audio (its first audio content part). */
  markSpoken(): void {
    this.spoken = true;
  }

  /**
   * Checks the audio-output fields of an update (GA shape) without changing anything; `commit` applies
   * them. `unavailable` is set when the update asks for audio and there is no voice engine: the caller
   * reports it and the session stays text-only.
   */
  prepare(update: WireSessionConfig): { commit(): void; unavailable: EarshotError | null } {
    const output = update.audio?.output;
    const wantsAudio = update.output_modalities?.includes('audio');
    if (update.output_modalities !== undefined && update.output_modalities.length === 0) {
      throw new EarshotError('E_INVALID_EVENT', 'output_modalities must name "text" or "audio".', {
        param: 'session.output_modalities',
      });
    }
    const format =
      output?.format !== undefined ? resolveFormat(output.format, 'session.audio.output.format') : undefined;
    const speed = output?.speed !== undefined ? checkSpeed(output.speed, 'session.audio.output.speed') : undefined;
    const voice = output?.voice !== undefined ? voiceName(output.voice) : undefined;
    if (voice !== undefined && this.available) this.engineVoice(voice, 'session.audio.output.voice');
    const unavailable = wantsAudio && !this.available ? this.unavailableError() : null;
    return {
      unavailable,
      commit: () => {
        // Audio is either the answer's modality (with its transcript) or absent: OpenAI allows one.
        if (update.output_modalities !== undefined)
          this.modalities = wantsAudio && this.available ? ['audio'] : ['text'];
        if (format) this.format = format;
        if (speed !== undefined) this.speed = speed;
        if (voice !== undefined) this.voice = voice;
        if (this.modalities.includes('audio')) this.warmUpEngine();
      },
    };
  }

  /**
   * Lets the engine start ahead what the session's first sentence would wait for. Once per session: each
   * start is a process, so a stream of updates must not be able to start one per event.
   */
  private warmUpEngine(): void {
    if (this.engineWarmed) return;
    this.engineWarmed = true;
    const engineVoice = this.opts.service?.resolveVoice(this.voice);
    if (engineVoice) this.opts.service?.warmUp?.(engineVoice, this.speed);
  }

  /** The settings of one response (response.create overrides checked like the session's). */
  resolve(params?: WireResponseCreateParams): ResolvedSpeech {
    const modalities = params?.output_modalities ?? params?.modalities;
    const output = params?.audio?.output;
    const wantsAudio = modalities !== undefined ? modalities.includes('audio') : this.modalities.includes('audio');
    if (modalities?.includes('audio') && !this.available) throw this.unavailableError('response.output_modalities');
    const format =
      output?.format !== undefined ? resolveFormat(output.format, 'response.audio.output.format') : this.format;
    const rawVoice = output?.voice ?? (params as { voice?: string | { id: string } } | undefined)?.voice;
    const voice = rawVoice !== undefined ? voiceName(rawVoice) : this.voice;
    const audio = wantsAudio && this.available;
    return {
      audio,
      format,
      engineVoice: audio ? this.engineVoice(voice, 'response.audio.output.voice') : voice,
      speed: this.speed,
    };
  }

  /** One answer's speech stream (the service exists when resolve() said audio). */
  openStream(speech: ResolvedSpeech): SpeechStream {
    if (!this.opts.service) throw this.unavailableError();
    return this.opts.service.openStream(speech.engineVoice, speech.speed);
  }

  /** `audio.output` of the session object. */
  toWire(): SessionAudioOutput {
    return { format: this.format, voice: this.voice, speed: this.speed };
  }

  private engineVoice(voice: string, param: string): string {
    const service = this.opts.service;
    if (!service) throw this.unavailableError();
    const engineVoice = service.resolveVoice(voice);
    if (engineVoice === null) {
      throw new EarshotError(
        'E_TTS_VOICE',
        `Unknown voice ${JSON.stringify(voice.slice(0, 64))}; this server speaks with: ${service.voiceNames().join(', ')}.`,
        { param },
      );
    }
    if (this.spoken && voice !== this.voice) {
      throw new EarshotError(
        'E_VOICE_LOCKED',
        `The voice cannot change once the session has answered with audio (it speaks as ${JSON.stringify(this.voice)}).`,
        { param },
      );
    }
    return engineVoice;
  }

  private unavailableError(param = 'session.output_modalities'): EarshotError {
    const cause = this.opts.unavailable;
    return new EarshotError(
      cause?.code ?? 'E_UNSUPPORTED_FEATURE',
      cause?.message ?? 'This server has no voice engine: answers are text only.',
      { param },
    );
  }
}

function voiceName(voice: string | { id: string }): string {
  return typeof voice === 'string' ? voice : voice.id;
}

function checkSpeed(speed: number, param: string): number {
  if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
    throw new EarshotError('E_INVALID_EVENT', `speed must be between ${MIN_SPEED} and ${MAX_SPEED} (got ${speed}).`, {
      param,
    });
  }
  return speed;
}

/** OpenAI's output formats: PCM only at 24 kHz, G.711 at 8 kHz. */
function resolveFormat(format: WireAudioFormat, param: string): AudioFormat {
  if (format.type !== 'audio/pcm') return { type: format.type };
  if (format.rate !== undefined && format.rate !== SPEECH_OUTPUT_RATE_HZ) {
    throw new EarshotError('E_UNSUPPORTED_FORMAT', `Output audio/pcm is 24 kHz only (got rate ${format.rate}).`, {
      param: `${param}.rate`,
    });
  }
  return { type: 'audio/pcm', rate: SPEECH_OUTPUT_RATE_HZ };
}
