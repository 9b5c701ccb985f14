// `earshot bench tts`: the spoken-answer figures in one report, each measured by its own piece in this
// folder (espeak speed, Kokoro's fixture speed, time to first audio through a real server, WebRTC pacing).
import { measureEspeakRtf } from './espeak_rtf.ts';
import { measureKokoroFixtureRtf } from './kokoro_rtf.ts';
import { measureProcessStart } from './process_start.ts';
import { measureTtfa } from './ttfa.ts';
import { measureWebrtcFrameGaps } from './webrtc_frames.ts';

export interface TtsBenchOptions {
  /** Answers for the time-to-first-audio median (20 by default). */
  answers?: number;
  /** WebRTC calls speaking at once (20 by default). */
  sessions?: number;
  /** Seconds of audio each WebRTC call plays (10 by default). */
  seconds?: number;
  /** Memory held while process starts are timed, in MB (2048 by default; see process_start.ts). */
  ballastMb?: number;
  progress?: (message: string) => void;
}

export interface TtsBenchResult {
  /** Answers with clause marks, warm espeak-ng processes (the headline). */
  ttfa_ms: number;
  /** Answers without any clause mark: bounded below by tts.stream.first_cut_wait_ms. */
  ttfa_ms_no_clause_marks: number;
  espeak_rtf: number;
  kokoro_fixture_rtf: number;
  webrtc_frame_gap_p99_ms: number;
  audio_sessions: number;
  /** Event-loop time per espeak-ng start through the process launcher, and spawn() directly (same run). */
  process_start_block_ms: number;
  process_start_block_ms_direct: number;
  details: Record<string, unknown>;
}

export async function benchTts(options: TtsBenchOptions = {}): Promise<TtsBenchResult> {
  const progress = options.progress ?? (() => {});
  progress('espeak-ng speed');
  const espeak = await measureEspeakRtf();
  progress('Kokoro fixture speed');
  const kokoro = await measureKokoroFixtureRtf();
  progress('time to first audio through a real server');
  const answers = options.answers ?? 20;
  const ttfa = await measureTtfa({ answers, text: 'clause_marks', progress });
  // Baseline in the same run: the same answers with a process started per sentence.
  const ttfaColdSpawn = await measureTtfa({ answers, text: 'clause_marks', warmProcesses: 0, progress });
  const ttfaNoClauseMarks = await measureTtfa({ answers, text: 'no_clause_marks', progress });
  progress('voice-engine process starts');
  const processStart = await measureProcessStart({ ballastMb: options.ballastMb ?? 2048 });
  progress('WebRTC pacing');
  const webrtc = await measureWebrtcFrameGaps({
    sessions: options.sessions ?? 20,
    seconds: options.seconds ?? 10,
    progress,
  });
  return {
    ttfa_ms: ttfa.ttfa_ms,
    ttfa_ms_no_clause_marks: ttfaNoClauseMarks.ttfa_ms,
    espeak_rtf: espeak.espeak_rtf,
    kokoro_fixture_rtf: kokoro.kokoro_fixture_rtf,
    webrtc_frame_gap_p99_ms: webrtc.webrtc_frame_gap_p99_ms,
    audio_sessions: webrtc.audio_sessions,
    process_start_block_ms: processStart.process_start_block_ms,
    process_start_block_ms_direct: processStart.process_start_block_ms_direct,
    details: {
      espeak,
      kokoro,
      ttfa,
      ttfa_cold_spawn: ttfaColdSpawn,
      ttfa_no_clause_marks: ttfaNoClauseMarks,
      process_start: processStart,
      webrtc,
    },
  };
}
