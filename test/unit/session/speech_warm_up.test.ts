// A session that asks for spoken answers has its voice engine prepared once (a warm espeak-ng process for
// its voice and speed), so its first sentence does not wait for a process start; text sessions and later
// updates start nothing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/schema.ts';
import { sessionSpeechOptions } from '../../../src/session/session_speech.ts';
import { SpeechSettings } from '../../../src/session/speech_settings.ts';
import type { SpawnEspeak } from '../../../src/tts/espeak_pool.ts';
import { EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import { waitFor } from '../../helpers/wait_for.ts';

const tts = defaultConfig().tts;
const opened: EspeakSynthesizer[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

/** Session speech settings over a real espeak-ng synthesizer whose process starts are recorded. */
function settingsWithRecordedEngine() {
  const started: (readonly string[])[] = [];
  const spawnFn: SpawnEspeak = (program, args): ChildProcessWithoutNullStreams => {
    started.push(args);
    return spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  };
  const synth = new EspeakSynthesizer({ ...tts.espeak, maxInputChars: tts.max_input_chars }, spawnFn);
  opened.push(synth);
  return { settings: new SpeechSettings(sessionSpeechOptions(synth, tts)), synth, started };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('warming up the voice engine for a session that will speak', () => {
  it("starts one warm process in the session's engine voice and speed when it asks for audio", async () => {
    const { settings, synth, started } = settingsWithRecordedEngine();
    settings.prepare({ output_modalities: ['audio'], audio: { output: { voice: 'ballad', speed: 1.2 } } }).commit();
    await waitFor(() => synth.warmProcesses === 1, { what: 'the warm process' });
    // ballad -> en-gb+m4 (the tts.voices table); 175 wpm x 1.2.
    expect(started).toEqual([['-v', 'en-gb+m4', '-s', '210', '--stdout', '--stdin']]);
  });

  it('does it once per session, whatever the later updates change', async () => {
    const { settings, synth, started } = settingsWithRecordedEngine();
    settings.prepare({ output_modalities: ['audio'] }).commit();
    await waitFor(() => synth.warmProcesses === 1, { what: 'the warm process' });
    for (const speed of [0.5, 0.75, 1.25, 1.5]) {
      settings.prepare({ output_modalities: ['audio'], audio: { output: { speed } } }).commit();
      await nextTurn();
    }
    expect(started).toHaveLength(1);
  });

  it('starts nothing for a text session, or for an update that is refused', async () => {
    const { settings, started } = settingsWithRecordedEngine();
    settings.prepare({ output_modalities: ['text'], instructions: 'Be brief.' }).commit();
    expect(() => settings.prepare({ output_modalities: ['audio'], audio: { output: { voice: 'nobody' } } })).toThrow(
      /Unknown voice/,
    );
    await nextTurn();
    await nextTurn();
    expect(started).toHaveLength(0);
  });
});
