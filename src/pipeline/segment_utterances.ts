import type { OperatorFunction } from 'rxjs';
import { ONSET_FLOOR_WINDOW_SAMPLES, refineOffset, refineOnset, type EndpointRefinerParams } from '../vad/endpoint_refiner.ts';
import { TurnStateMachine, type EndpointHooks, type TurnEvent, type TurnParams } from '../vad/turn_state_machine.ts';
import { expandEach } from './operators.ts';
import { SampleStore } from './sample_store.ts';
import {
  VAD_WINDOW_SAMPLES,
  msToSamples,
  samplesToMs,
  type FramedItem,
  type SegmentEvent,
  type TurnDetectionSettings,
  type Utterance,
} from './types.ts';

export interface SegmentOptions {
  /** Item ids for new utterances; injected so tests are deterministic. */
  newItemId: () => string;
  /** Initial turn detection (null = manual commits only). A `configure` item replaces it. */
  turnDetection: TurnDetectionSettings | null;
  /** Cap on manually committed utterances (with VAD the turn detection settings carry their own). */
  maxUtteranceMs: number;
}

/** Pipeline settings (ms) as the turn state machine's parameters (samples, windows). */
export function toTurnParams(s: TurnDetectionSettings): TurnParams {
  return {
    threshold: s.threshold,
    refineLookbackSamples: msToSamples(s.refineSearchMs) + ONSET_FLOOR_WINDOW_SAMPLES,
    windowSamples: VAD_WINDOW_SAMPLES,
    prefixPaddingSamples: msToSamples(s.prefixPaddingMs),
    silenceSamples: msToSamples(s.silenceDurationMs),
    minSpeechWindows: Math.ceil(msToSamples(s.minSpeechMs) / VAD_WINDOW_SAMPLES),
    maxUtteranceSamples: msToSamples(s.maxUtteranceMs),
    splitSearchSamples: msToSamples(s.splitSearchMs),
    minSplitPauseSamples: msToSamples(s.minSplitPauseMs),
  };
}

function refinerParams(s: TurnDetectionSettings | null): EndpointRefinerParams {
  return { marginDb: s?.refineMarginDb ?? 9, searchSamples: s ? msToSamples(s.refineSearchMs) : 0 };
}

/**
 * On 8 kHz (phone) audio, Silero let go decisively when one of its last speech windows was at least this
 * sure: its boundary is then kept (the refiner may only add a tail). Measured on the accuracy set: on phone
 * audio its last speech windows read 0.75-0.94 and its ends are early rather than late, so cutting further
 * lost speech; in wideband noise it fades out at 0.5-0.7, ~300 ms late, which is what the refiner corrects.
 * Wideband audio does not use the rule: whether a window reads 0.64 or 0.76 there depends on where the 32 ms
 * grid falls, and the rule made offsets jump by ~70 ms with the grid phase.
 */
const DECISIVE_END_PROBABILITY = 0.75;

const roundMs = (samples: number) => Math.round(samplesToMs(samples));

/**
 * Turns framed audio with speech probabilities into speech_started / speech_stopped events and
 * utterances. Utterances are disjoint, in order, never longer than the cap, and together with the gaps
 * between them cover the input exactly.
 */
export function segmentUtterances(options: SegmentOptions): OperatorFunction<FramedItem, SegmentEvent> {
  return (input$) => {
    const store = new SampleStore();
    const store8k = new SampleStore(8_000);
    let has8k = false;
    let refine = refinerParams(options.turnDetection);
    // Exact endpoints from the stored audio once Silero has decided (see endpoint_refiner.ts).
    const endpoints: EndpointHooks = {
      onset: (approx, lowest, seenEnd) => (refine.searchSamples > 0 ? refineOnset(store, approx, lowest, refine, seenEnd) : approx),
      offset: (approx, silenceEnd, lowest, finalPeak) =>
        refine.searchSamples > 0 ? refineOffset(store, approx, silenceEnd, lowest, refine, has8k && finalPeak >= DECISIVE_END_PROBABILITY) : approx,
    };
    let machine = options.turnDetection ? new TurnStateMachine(toTurnParams(options.turnDetection), endpoints) : null;
    let currentItemId: string | null = null;
    let current: { audioStart: number; speechStart: number } | null = null;
    let floorSample = 0; // start of uncommitted audio (manual mode) / end of the last utterance
    let nextWindowStart = 0;

    const makeUtterance = (
      start: number,
      end: number,
      speechStart: number,
      speechEnd: number,
      endReason: Utterance['endReason'],
      itemId: string,
    ): Utterance => ({
      itemId,
      pcm16k: store.slice(start, end),
      startSample: start,
      endSample: end,
      speechStartMs: samplesToMs(speechStart),
      speechEndMs: samplesToMs(speechEnd),
      endReason,
      ...(has8k ? { pcm8k: store8k.slice(Math.floor(start / 2), Math.floor(end / 2)) } : {}),
    });

    const applyTurnEvents = (events: TurnEvent[], out: SegmentEvent[]) => {
      for (const e of events) {
        if (e.type === 'speech_started') {
          currentItemId = options.newItemId();
          current = { audioStart: e.audioStartSample, speechStart: e.speechStartSample };
          out.push({
            type: 'speech_started',
            itemId: currentItemId,
            audioStartMs: roundMs(e.audioStartSample),
            speechStartMs: roundMs(e.speechStartSample),
          });
        } else if (current && currentItemId) {
          out.push({
            type: 'speech_stopped',
            itemId: currentItemId,
            audioEndMs: roundMs(e.audioEndSample),
            speechEndMs: roundMs(e.speechEndSample),
          });
          out.push({
            type: 'utterance',
            utterance: makeUtterance(current.audioStart, e.audioEndSample, current.speechStart, e.speechEndSample, e.reason, currentItemId),
          });
          floorSample = e.audioEndSample;
          current = null;
          currentItemId = null;
        }
      }
    };

    const trim = () => {
      const keepFrom = machine ? Math.min(machine.retainFromSample(nextWindowStart), nextWindowStart) : floorSample;
      store.discardBefore(keepFrom);
      if (has8k) store8k.discardBefore(Math.floor(keepFrom / 2));
    };

    const manualCut = (end: number, reason: Utterance['endReason'], out: SegmentEvent[]) => {
      const itemId = options.newItemId();
      out.push({ type: 'utterance', utterance: makeUtterance(floorSample, end, floorSample, end, reason, itemId) });
      floorSample = end;
    };

    const handle = (item: FramedItem): SegmentEvent[] => {
      const out: SegmentEvent[] = [];
      switch (item.type) {
        case 'audio': {
          store.append(item.samples16k);
          if (item.samples8k) {
            has8k = true;
            store8k.append(item.samples8k);
          }
          out.push({ type: 'processed', samples16k: item.samples16k.length });
          if (!machine) {
            // Manual mode still honours the cap: a buffer that reaches it is committed in pieces.
            const cap = msToSamples(options.maxUtteranceMs);
            while (store.endSample - floorSample >= cap) manualCut(floorSample + cap, 'max_duration', out);
          }
          break;
        }
        case 'window': {
          nextWindowStart = item.startSample + VAD_WINDOW_SAMPLES;
          if (machine && item.probability !== undefined) applyTurnEvents(machine.pushWindow(item.startSample, item.probability), out);
          break;
        }
        case 'commit': {
          if (machine) {
            if (!machine.speaking) {
              out.push({ type: 'error', code: 'E_BUFFER_EMPTY', message: 'No speech is in progress; with server_vad, utterances are committed automatically.' });
              out.push({ type: 'commit_handled' });
              break;
            }
            applyTurnEvents(machine.forceEnd(item.atSample, 'commit'), out);
          } else if (item.atSample > floorSample) {
            manualCut(item.atSample, 'commit', out);
          } else {
            out.push({ type: 'error', code: 'E_BUFFER_EMPTY', message: 'The input audio buffer is empty.' });
          }
          // The session orders the client's later events after this commit's outcome (arrival order).
          out.push({ type: 'commit_handled' });
          break;
        }
        case 'clear': {
          machine?.reset(item.atSample);
          current = null;
          currentItemId = null;
          floorSample = item.atSample;
          out.push({ type: 'cleared' });
          break;
        }
        case 'end': {
          if (machine) applyTurnEvents(machine.forceEnd(item.atSample, 'end_of_stream'), out);
          else if (item.atSample > floorSample) manualCut(item.atSample, 'end_of_stream', out);
          break;
        }
        case 'configure': {
          const next = item.turnDetection;
          if (machine && next) {
            // New VAD parameters apply from the next window; speech in progress carries on.
            machine.setParams(toTurnParams(next));
            refine = refinerParams(next);
          } else if (machine && !next) {
            // Switching to manual commits closes speech in progress at this point, so nothing is lost.
            applyTurnEvents(machine.forceEnd(item.atSample, 'commit'), out);
            floorSample = Math.max(floorSample, item.atSample);
            machine = null;
          } else if (!machine && next) {
            machine = new TurnStateMachine(toTurnParams(next), endpoints);
            refine = refinerParams(next);
            machine.reset(floorSample);
          }
          break;
        }
      }
      trim();
      return out;
    };
    return input$.pipe(expandEach(handle));
  };
}
