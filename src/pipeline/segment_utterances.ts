import type { OperatorFunction } from 'rxjs';
import {
  ONSET_FLOOR_WINDOW_SAMPLES,
  refineOffset,
  refineOnset,
  type EndpointRefinerParams,
} from '../vad/endpoint_refiner.ts';
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

/** The utterance in progress (VAD mode): its item id and where its audio and speech begin. */
interface OpenUtterance {
  itemId: string;
  audioStart: number;
  speechStart: number;
}

/**
 * The state of one connection's segmentation: the audio kept for utterances (16 kHz, and the source's 8 kHz
 * when it has one), the turn state machine (null = manual commits), the utterance in progress, and the two
 * positions that bound what must be kept.
 */
class UtteranceSegmenter {
  private readonly store = new SampleStore();
  private readonly store8k = new SampleStore(8_000);
  private has8k = false;
  private refine: EndpointRefinerParams;
  private machine: TurnStateMachine | null;
  private open: OpenUtterance | null = null;
  /** Start of uncommitted audio (manual mode) / end of the last utterance. */
  private floorSample = 0;
  private nextWindowStart = 0;
  /** Exact endpoints from the stored audio once Silero has decided (see endpoint_refiner.ts). */
  private readonly endpoints: EndpointHooks = {
    onset: (approx, lowest, seenEnd) =>
      this.refine.searchSamples > 0 ? refineOnset(this.store, approx, lowest, this.refine, seenEnd) : approx,
    offset: (approx, silenceEnd, lowest, finalPeak) =>
      this.refine.searchSamples > 0
        ? refineOffset(
            this.store,
            approx,
            silenceEnd,
            lowest,
            this.refine,
            this.has8k && finalPeak >= DECISIVE_END_PROBABILITY,
          )
        : approx,
  };

  constructor(private readonly options: SegmentOptions) {
    this.refine = refinerParams(options.turnDetection);
    this.machine = options.turnDetection
      ? new TurnStateMachine(toTurnParams(options.turnDetection), this.endpoints)
      : null;
  }

  handle(item: FramedItem): SegmentEvent[] {
    const out: SegmentEvent[] = [];
    switch (item.type) {
      case 'audio':
        this.onAudio(item.samples16k, item.samples8k, out);
        break;
      case 'window':
        this.nextWindowStart = item.startSample + VAD_WINDOW_SAMPLES;
        if (this.machine && item.probability !== undefined)
          this.applyTurnEvents(this.machine.pushWindow(item.startSample, item.probability), out);
        break;
      case 'commit':
        this.onCommit(item.atSample, out);
        break;
      case 'clear':
        this.onClear(item.atSample, out);
        break;
      case 'end':
        if (this.machine) this.applyTurnEvents(this.machine.forceEnd(item.atSample, 'end_of_stream'), out);
        else if (item.atSample > this.floorSample) this.manualCut(item.atSample, 'end_of_stream', out);
        break;
      case 'configure':
        this.onConfigure(item.turnDetection, item.atSample, out);
        break;
    }
    this.trim();
    return out;
  }

  private onAudio(samples16k: Float32Array, samples8k: Float32Array | undefined, out: SegmentEvent[]): void {
    this.store.append(samples16k);
    if (samples8k) {
      this.has8k = true;
      this.store8k.append(samples8k);
    }
    out.push({ type: 'processed', samples16k: samples16k.length });
    if (!this.machine) {
      // Manual mode still honours the cap: a buffer that reaches it is committed in pieces.
      const cap = msToSamples(this.options.maxUtteranceMs);
      while (this.store.endSample - this.floorSample >= cap)
        this.manualCut(this.floorSample + cap, 'max_duration', out);
    }
  }

  private onCommit(atSample: number, out: SegmentEvent[]): void {
    if (this.machine && !this.machine.speaking) {
      out.push({
        type: 'error',
        code: 'E_BUFFER_EMPTY',
        message: 'No speech is in progress; with server_vad, utterances are committed automatically.',
      });
    } else if (this.machine) {
      this.applyTurnEvents(this.machine.forceEnd(atSample, 'commit'), out);
    } else if (atSample > this.floorSample) {
      this.manualCut(atSample, 'commit', out);
    } else {
      out.push({ type: 'error', code: 'E_BUFFER_EMPTY', message: 'The input audio buffer is empty.' });
    }
    // The session orders the client's later events after this commit's outcome (arrival order).
    out.push({ type: 'commit_handled' });
  }

  private onClear(atSample: number, out: SegmentEvent[]): void {
    this.machine?.reset(atSample);
    this.open = null;
    this.floorSample = atSample;
    out.push({ type: 'cleared' });
  }

  private onConfigure(next: TurnDetectionSettings | null, atSample: number, out: SegmentEvent[]): void {
    if (this.machine && next) {
      // New VAD parameters apply from the next window; speech in progress carries on.
      this.machine.setParams(toTurnParams(next));
      this.refine = refinerParams(next);
    } else if (this.machine && !next) {
      // Switching to manual commits closes speech in progress at this point, so nothing is lost.
      this.applyTurnEvents(this.machine.forceEnd(atSample, 'commit'), out);
      this.floorSample = Math.max(this.floorSample, atSample);
      this.machine = null;
    } else if (!this.machine && next) {
      this.machine = new TurnStateMachine(toTurnParams(next), this.endpoints);
      this.refine = refinerParams(next);
      this.machine.reset(this.floorSample);
    }
  }

  private applyTurnEvents(events: TurnEvent[], out: SegmentEvent[]): void {
    for (const e of events) {
      if (e.type === 'speech_started') this.startUtterance(e, out);
      else if (this.open) this.finishUtterance(this.open, e, out);
    }
  }

  private startUtterance(e: Extract<TurnEvent, { type: 'speech_started' }>, out: SegmentEvent[]): void {
    this.open = { itemId: this.options.newItemId(), audioStart: e.audioStartSample, speechStart: e.speechStartSample };
    out.push({
      type: 'speech_started',
      itemId: this.open.itemId,
      audioStartMs: roundMs(e.audioStartSample),
      speechStartMs: roundMs(e.speechStartSample),
    });
  }

  private finishUtterance(
    open: OpenUtterance,
    e: Extract<TurnEvent, { type: 'speech_stopped' }>,
    out: SegmentEvent[],
  ): void {
    out.push({
      type: 'speech_stopped',
      itemId: open.itemId,
      audioEndMs: roundMs(e.audioEndSample),
      speechEndMs: roundMs(e.speechEndSample),
    });
    out.push({
      type: 'utterance',
      utterance: this.makeUtterance(
        open.audioStart,
        e.audioEndSample,
        open.speechStart,
        e.speechEndSample,
        e.reason,
        open.itemId,
      ),
    });
    this.floorSample = e.audioEndSample;
    this.open = null;
  }

  private manualCut(end: number, reason: Utterance['endReason'], out: SegmentEvent[]): void {
    const itemId = this.options.newItemId();
    out.push({
      type: 'utterance',
      utterance: this.makeUtterance(this.floorSample, end, this.floorSample, end, reason, itemId),
    });
    this.floorSample = end;
  }

  private makeUtterance(
    start: number,
    end: number,
    speechStart: number,
    speechEnd: number,
    endReason: Utterance['endReason'],
    itemId: string,
  ): Utterance {
    return {
      itemId,
      pcm16k: this.store.slice(start, end),
      startSample: start,
      endSample: end,
      speechStartMs: samplesToMs(speechStart),
      speechEndMs: samplesToMs(speechEnd),
      endReason,
      ...(this.has8k ? { pcm8k: this.store8k.slice(Math.floor(start / 2), Math.floor(end / 2)) } : {}),
    };
  }

  /** Drops stored audio no future utterance (or refinement) can need. */
  private trim(): void {
    const keepFrom = this.machine
      ? Math.min(this.machine.retainFromSample(this.nextWindowStart), this.nextWindowStart)
      : this.floorSample;
    this.store.discardBefore(keepFrom);
    if (this.has8k) this.store8k.discardBefore(Math.floor(keepFrom / 2));
  }
}

/**
 * Turns framed audio with speech probabilities into speech_started / speech_stopped events and
 * utterances. Utterances are disjoint, in order, never longer than the cap, and together with the gaps
 * between them cover the input exactly.
 */
export function segmentUtterances(options: SegmentOptions): OperatorFunction<FramedItem, SegmentEvent> {
  return (input$) => {
    const segmenter = new UtteranceSegmenter(options);
    return input$.pipe(expandEach((item: FramedItem) => segmenter.handle(item)));
  };
}
