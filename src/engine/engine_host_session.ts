// The main-thread proxy of one engine session: implements EngineSession over messages to the worker.
// Synchronous reads (length, checkpoint, stats) come from a mirror of the worker's session state that
// every reply refreshes; callers await each operation before reading them, as with the in-process class.

import { EarshotError } from '../errors.ts';
import type {
  Checkpoint,
  EngineSession,
  EngineStats,
  GenerateOptions,
  GenerationEvent,
  ToolSpec,
  TurnRef,
  UserPart,
} from './engine_session.ts';
import { eventChannel } from './event_channel.ts';
import {
  CANCEL_FLAG,
  CANCEL_SLOTS,
  CANCEL_STEPS,
  type AppendRequest,
  type HostRequest,
  type WorkerSessionState,
  type WireCheckpoint,
} from './worker_protocol.ts';

/** What the proxy needs from the host (one worker generation). */
export interface SessionTransport {
  /** Sends a request with an id; resolves with the reply's value. Delta messages go to `onDelta`. */
  request<T>(
    message: DistributiveOmit<HostRequest, 'id'> & { op: string },
    onDelta?: (text: string, tokenIds: number[]) => void,
    onState?: (state: WorkerSessionState) => void,
  ): Promise<T>;
  /** Fire-and-forget message (no reply). */
  post(message: HostRequest): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface GenerationTrace {
  /** Decode steps the worker started for the last generation. */
  decodeSteps: number;
  /** Decode steps already started when the cancel flag was raised (undefined: not cancelled). */
  stepsAtCancel?: number;
}

export class HostSession implements EngineSession {
  private state: WorkerSessionState;
  private failure: EarshotError | undefined;
  private disposed = false;
  /** For tests and diagnostics: step counts of the last generation. */
  lastGeneration: GenerationTrace | undefined;
  private readonly activeCancels = new Set<Int32Array>();

  constructor(
    readonly id: string,
    initial: WorkerSessionState,
    private readonly transport: SessionTransport,
    private readonly onDisposed: (session: HostSession) => void = () => undefined,
  ) {
    this.state = initial;
  }

  get length(): number {
    return this.state.length;
  }

  stats(): EngineStats {
    return { ...this.state.stats };
  }

  checkpoint(): Checkpoint {
    const cp: WireCheckpoint = { length: this.state.length, turns: this.state.turns, epoch: this.state.epoch };
    return cp;
  }

  /** The worker died: every call fails with `error` from now on, running generations included. */
  fail(error: EarshotError): void {
    this.failure ??= error;
    for (const flags of this.activeCancels) Atomics.store(flags, CANCEL_FLAG, 1);
    this.state = { ...this.state, stats: { ...this.state.stats, kvBytes: 0 } };
  }

  appendSystem(content: { instructions: string; tools?: ToolSpec[] }): Promise<void> {
    return this.append({ kind: 'system', instructions: content.instructions, tools: content.tools }).then(
      () => undefined,
    );
  }

  async appendUser(parts: UserPart[]): Promise<TurnRef> {
    const wire = parts.map((p) =>
      p.type === 'text' ? { type: 'text' as const, text: p.text } : { type: 'audio' as const, audioId: p.audio.id },
    );
    return (await this.append({ kind: 'user', parts: wire })) as TurnRef;
  }

  appendAssistant(text: string): Promise<void> {
    return this.append({ kind: 'assistant', text }).then(() => undefined);
  }

  appendToolResponse(resultJson: string): Promise<void> {
    return this.append({ kind: 'tool', resultJson }).then(() => undefined);
  }

  setTranscript(turn: TurnRef, transcript: string): void {
    if (this.failure !== undefined || this.disposed) return;
    this.transport.post({ op: 'setTranscript', sessionId: this.id, turnIndex: turn.index, transcript });
  }

  generate(options: GenerateOptions, signal?: AbortSignal): AsyncIterable<GenerationEvent> {
    const flags = new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
    const trace: GenerationTrace = { decodeSteps: 0 };
    this.lastGeneration = trace;
    const cancel = (): void => {
      if (Atomics.load(flags, CANCEL_FLAG) !== 0) return;
      // Raise the flag first, then read the step counter: any step started later sees the flag.
      Atomics.store(flags, CANCEL_FLAG, 1);
      trace.stepsAtCancel = Atomics.load(flags, CANCEL_STEPS);
    };
    const channel = eventChannel<GenerationEvent>(cancel);
    const unavailable = this.unavailable();
    if (unavailable !== undefined) {
      channel.fail(unavailable);
      return channel.iterable;
    }
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    this.activeCancels.add(flags);
    this.transport
      .request<GenerationEvent>(
        { op: 'generate', sessionId: this.id, options, cancel: flags.buffer as SharedArrayBuffer },
        (text, tokenIds) => channel.push({ type: 'delta', text, tokenIds }),
        (state) => this.setState(state),
      )
      .then(
        (done) => channel.end(done),
        (error: unknown) => channel.fail(this.failure ?? error),
      )
      .finally(() => {
        trace.decodeSteps = Atomics.load(flags, CANCEL_STEPS);
        this.activeCancels.delete(flags);
        signal?.removeEventListener('abort', cancel);
      });
    return channel.iterable;
  }

  rewind(checkpoint: Checkpoint): Promise<void> {
    const cp = checkpoint as Partial<WireCheckpoint>;
    const wire: WireCheckpoint = {
      length: checkpoint.length,
      turns: checkpoint.turns,
      epoch: cp.epoch ?? this.state.epoch,
    };
    return this.call({ op: 'rewind', sessionId: this.id, checkpoint: wire }).then(() => undefined);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      if (this.failure !== undefined) return; // its worker is gone, and its memory with it
      await this.call({ op: 'dispose', sessionId: this.id }, true);
      this.state = { ...this.state, stats: { ...this.state.stats, kvBytes: 0 } };
    } finally {
      this.onDisposed(this);
    }
  }

  private append(append: AppendRequest): Promise<unknown> {
    return this.call({ op: 'append', sessionId: this.id, append });
  }

  private unavailable(): EarshotError | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.disposed) return new EarshotError('E_INTERNAL', `Session ${this.id} was disposed.`);
    return undefined;
  }

  private async call(message: DistributiveOmit<HostRequest, 'id'>, allowDisposed = false): Promise<unknown> {
    const unavailable = allowDisposed && this.failure === undefined ? undefined : this.unavailable();
    if (unavailable !== undefined) throw unavailable;
    try {
      return await this.transport.request(message, undefined, (state) => this.setState(state));
    } catch (error) {
      throw this.failure ?? error;
    }
  }

  private setState(state: WorkerSessionState): void {
    if (this.failure === undefined) this.state = state;
  }
}
