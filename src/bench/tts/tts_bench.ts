// `earshot bench tts`: the spoken-answer figures in one report, each measured by its own piece in this
// folder (espeak speed, Kokoro's fixture speed, time to first audio through a real server, WebRTC pacing).
import { measureEspeakRtf } from './espeak_rtf.ts';
import { measureKokoroFixtureRtf } from './kokoro_rtf.ts';
import { measureTtfa } from './ttfa.ts';
import { measureWebrtcFrameGaps } from './webrtc_frames.ts';

export interface TtsBenchOptions {
  /** Answers for the time-to-first-audio median (20 by default). */
  answers?: number;
  /** WebRTC calls speaking at once (20 by default). */
  sessions?: number;
  /** Seconds of audio each WebRTC call plays (10 by default). */
  seconds?: number;
  progress?: (message: string) => void;
}

export interface TtsBenchResult {
  ttfa_ms: number;
  espeak_rtf: number;
  kokoro_fixture_rtf: number;
  webrtc_frame_gap_p99_ms: number;
  audio_sessions: number;
  details: Record<string, unknown>;
}

export async function benchTts(options: TtsBenchOptions = {}): Promise<TtsBenchResult> {
  const progress = options.progress ?? (() => {});
  progress('espeak-ng speed');
  const espeak = await measureEspeakRtf();
  progress('Kokoro fixture speed');
  const kokoro = await measureKokoroFixtureRtf();
  progress('time to first audio through a real server');
  const ttfa = await measureTtfa({ answers: options.answers ?? 20, progress });
  progress('WebRTC pacing');
  const webrtc = await measureWebrtcFrameGaps({
    sessions: options.sessions ?? 20,
    seconds: options.seconds ?? 10,
    progress,
  });
  return {
    ttfa_ms: ttfa.ttfa_ms,
    espeak_rtf: espeak.espeak_rtf,
    kokoro_fixture_rtf: kokoro.kokoro_fixture_rtf,
    webrtc_frame_gap_p99_ms: webrtc.webrtc_frame_gap_p99_ms,
    audio_sessions: webrtc.audio_sessions,
    details: { espeak, kokoro, ttfa, webrtc },
  };
}
