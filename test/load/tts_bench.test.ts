// `earshot bench tts` end to end with small sizes: every headline figure is measured (a finite, positive
// number) and the WebRTC piece received the frames it was given to send.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { benchTts } from '../../src/bench/tts/tts_bench.ts';

const espeakInstalled = spawnSync('espeak-ng', ['--version']).status === 0;

describe.skipIf(!espeakInstalled)('bench tts', () => {
  it("reports time to first audio, both engines' speed, WebRTC frame gaps and process starts", async () => {
    const result = await benchTts({ answers: 2, sessions: 2, seconds: 2, ballastMb: 16 });
    const headline = [
      'ttfa_ms',
      'espeak_rtf',
      'kokoro_fixture_rtf',
      'webrtc_frame_gap_p99_ms',
      'process_start_block_ms',
      'process_start_block_ms_direct',
    ] as const;
    for (const key of headline) {
      expect(Number.isFinite(result[key]) && result[key] > 0, `${key} = ${result[key]}`).toBe(true);
    }
    expect(result.audio_sessions).toBe(2);
    const webrtc = result.details.webrtc as { webrtc_frames_received: number; webrtc_frames_expected: number };
    expect(webrtc.webrtc_frames_received).toBe(webrtc.webrtc_frames_expected);
    expect(result.details.process_start).toMatchObject({ ballast_mb: 16, starts: 20 });
  });
});
