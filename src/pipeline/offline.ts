import { from, lastValueFrom, toArray } from 'rxjs';
import type { VadConfig } from '../config/schema.ts';
import { getSharedSileroModel } from '../vad/silero_model.ts';
import { VadBatcher, type VadStream } from '../vad/vad_batcher.ts';
import { detectSpeech, type SpeechProbabilitySource } from './detect_speech.ts';
import { reframe } from './reframe.ts';
import { segmentUtterances } from './segment_utterances.ts';
import { turnDetectionFromConfig } from './settings.ts';
import type { PipelineInput, SegmentEvent, Utterance } from './types.ts';

const OFFLINE_CHUNK_SAMPLES = 16_000;

/**
 * Runs a whole 16 kHz recording through exactly the operators a live connection uses (reframe ->
 * detectSpeech -> segmentUtterances) and returns every event. `earshot vad`, `earshot transcribe` and the
 * tests use it, so offline results equal what a WebSocket client sees for the same audio.
 */
export async function segmentEventsOffline(
  samples16k: Float32Array,
  vad: VadConfig,
  samples8k?: Float32Array,
  /**
   * Where speech probabilities come from: a function opening a stream of the server's shared batcher (Silero
   * then runs where the live sessions' does), a ready source (the accuracy bench replays Silero's), or by
   * default a Silero stream of its own.
   */
  source?: (() => VadStream) | SpeechProbabilitySource,
): Promise<SegmentEvent[]> {
  const stream = typeof source === 'function' ? source() : source === undefined ? await getSileroStream() : null;
  const probabilities: SpeechProbabilitySource = stream ?? (source as SpeechProbabilitySource);
  const inputs: PipelineInput[] = [];
  for (let i = 0; i < samples16k.length; i += OFFLINE_CHUNK_SAMPLES) {
    const end = Math.min(samples16k.length, i + OFFLINE_CHUNK_SAMPLES);
    inputs.push({
      type: 'audio',
      samples16k: samples16k.subarray(i, end),
      ...(samples8k ? { samples8k: samples8k.subarray(i / 2, end / 2) } : {}),
    });
  }
  inputs.push({ type: 'end' });
  let counter = 0;
  try {
    return await lastValueFrom(
      from(inputs).pipe(
        reframe(),
        detectSpeech(probabilities),
        segmentUtterances({
          newItemId: () => `item_offline_${++counter}`,
          turnDetection: turnDetectionFromConfig(vad),
          maxUtteranceMs: vad.max_utterance_ms,
        }),
        toArray(),
      ),
    );
  } finally {
    stream?.close();
  }
}

async function getSileroStream() {
  const model = await getSharedSileroModel();
  return new VadBatcher(model, { maxBatchStreams: 1 }).openStream();
}

export async function segmentOffline(
  samples16k: Float32Array,
  vad: VadConfig,
  samples8k?: Float32Array,
  source?: (() => VadStream) | SpeechProbabilitySource,
): Promise<Utterance[]> {
  const events = await segmentEventsOffline(samples16k, vad, samples8k, source);
  return events.flatMap((e) => (e.type === 'utterance' ? [e.utterance] : []));
}
