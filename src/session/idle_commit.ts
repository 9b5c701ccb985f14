// The connection's side of turn_detection.idle_timeout_ms (the rules are in idle_timeout.ts): feeds the
// idle tracker the turn and response events, keeps only the recent audio an idle commit could need, and
// cuts the committed stretch out of it.
import type { TurnDetectionConfig } from '../protocol/server_session.ts';
import { AudioHistory, IdleTracker, MAX_IDLE_AUDIO_MS } from './idle_timeout.ts';

export class IdleTimeoutWatch {
  private readonly idle = new IdleTracker();
  private readonly history = new AudioHistory();

  audioAppended(samples16k: Float32Array): void {
    this.history.append(samples16k);
  }

  speechStarted(): void {
    this.idle.speechStarted();
  }

  utteranceCommitted(endMs: number, responseFollows: boolean): void {
    this.idle.utteranceCommitted(endMs, responseFollows);
  }

  cleared(clockMs: number): void {
    this.idle.cleared(clockMs);
  }

  responseStarted(): void {
    this.idle.responseStarted();
  }

  responseDone(clockMs: number): void {
    this.idle.responseDone(clockMs);
  }

  /** At audio time `clockSamples16k`: the silent stretch to commit now (server_vad with idle_timeout_ms), or null. */
  check(
    clockSamples16k: number,
    turnDetection: TurnDetectionConfig | null,
    turnsPending = false,
  ): { startMs: number; endMs: number } | null {
    const td = turnDetection;
    const clockMs = clockSamples16k / 16;
    const timeoutMs = td?.type === 'server_vad' ? td.idle_timeout_ms : null;
    const stretch = this.idle.check(clockMs, timeoutMs, turnsPending);
    // Keep only the audio an idle commit could need (the stretch so far, at most MAX_IDLE_AUDIO_MS).
    const keepFromMs = Math.max(this.idle.stretchStartMs ?? clockMs, clockMs - MAX_IDLE_AUDIO_MS);
    this.history.trimBefore(Math.floor(keepFromMs * 16));
    return stretch;
  }

  /** The audio of a stretch from `startMs` to sample `endSample`: its most recent MAX_IDLE_AUDIO_MS. */
  audioOf(startMs: number, endSample: number): { pcm16k: Float32Array; startSample: number; endSample: number } {
    const startSample = Math.max(Math.round(startMs * 16), endSample - MAX_IDLE_AUDIO_MS * 16);
    return { pcm16k: this.history.slice(startSample, endSample), startSample, endSample };
  }
}
