// SpeechEngine backed by a remote OpenAI-compatible server (vLLM with Phi-4-multimodal's speech LoRA, or
// another Earshot): design decision 9. Audio is not encoded here: encodeAudio keeps the utterance as a
// 16-bit WAV (8 kHz telephony audio stays 8 kHz) that travels as an input_audio part.
import { randomBytes } from 'node:crypto';
import { writeWav } from '../../audio/wav.ts';
import type { RemoteEngineConfig } from '../../config/remote_engine_schema.ts';
import { EarshotError } from '../../errors.ts';
import type { AudioHandle, EngineSession, SpeechEngine } from '../engine_session.ts';
import { RemoteSession } from './remote_session.ts';

/** Phi-4-mm's speech encoder yields one token per 80 ms (10 ms frames reduced by 8): the local estimate. */
const MS_PER_AUDIO_TOKEN = 80;

interface HeldAudio {
  wavBase64: string;
  audioTokens: number;
}

export class RemoteEngine implements SpeechEngine {
  private readonly audio = new Map<string, HeldAudio>();
  private heldBytes = 0;
  private readonly closing = new AbortController();

  constructor(
    private readonly config: RemoteEngineConfig,
    private readonly contextBudgetTokens: number,
  ) {
    if (!config.url) throw new EarshotError('E_CONFIG_INVALID', 'engine.remote.url is not set.');
  }

  get url(): string {
    return this.config.url!;
  }

  async encodeAudio(pcm: Float32Array, sampleRateHz: 16000 | 8000): Promise<AudioHandle> {
    const wav = writeWav({ sampleRateHz, channels: [pcm], encoding: 'pcm16' });
    if (this.heldBytes + wav.length > this.config.max_audio_cache_bytes) {
      throw new EarshotError(
        'E_ENGINE_BUSY',
        `Encoded audio waiting for the remote engine exceeds engine.remote.max_audio_cache_bytes (${this.config.max_audio_cache_bytes}).`,
        { retryable: true },
      );
    }
    const id = `ra_${randomBytes(8).toString('hex')}`;
    const durationMs = (pcm.length * 1000) / sampleRateHz;
    const held = {
      wavBase64: Buffer.from(wav).toString('base64'),
      audioTokens: Math.ceil(durationMs / MS_PER_AUDIO_TOKEN),
    };
    this.audio.set(id, held);
    this.heldBytes += wav.length;
    return { id, audioTokens: held.audioTokens, durationMs };
  }

  releaseAudio(handle: AudioHandle): void {
    const held = this.audio.get(handle.id);
    if (!held) return;
    this.audio.delete(handle.id);
    this.heldBytes -= Math.floor((held.wavBase64.length * 3) / 4);
  }

  async createSession(options?: { contextBudgetTokens?: number }): Promise<EngineSession> {
    if (this.closing.signal.aborted) throw new EarshotError('E_ENGINE', 'The remote engine is closed.');
    return new RemoteSession({
      config: this.config,
      contextBudgetTokens: options?.contextBudgetTokens ?? this.contextBudgetTokens,
      closed: this.closing.signal,
      resolveAudio: (id) => {
        const held = this.audio.get(id);
        if (!held) throw new EarshotError('E_ENGINE', `Unknown or released audio ${id}.`);
        return held;
      },
    });
  }

  async close(): Promise<void> {
    this.closing.abort(new EarshotError('E_ABORTED', 'The remote engine was closed.'));
    this.audio.clear();
    this.heldBytes = 0;
  }
}
