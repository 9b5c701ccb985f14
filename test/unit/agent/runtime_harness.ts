// Builds an AgentRuntime over a scripted engine and records what it emits (unit tests of agent logic).
import { z } from 'zod';
import { defineAgent, type AgentDefinition } from '../../../src/agent/agent.ts';
import { AgentRuntime, type AgentRuntimeSettings } from '../../../src/agent/agent_runtime.ts';
import { ItemChain } from '../../../src/agent/item_chain.ts';
import type { AgentServices } from '../../../src/agent/services.ts';
import { defineTool, type ServerTool } from '../../../src/agent/tool.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { EarshotError, type ErrorCode } from '../../../src/errors.ts';
import type { SpeechEngine } from '../../../src/engine/engine_session.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { Utterance } from '../../../src/pipeline/types.ts';
import type { ServerEventPayload } from '../../../src/protocol/server_events.ts';
import { SessionState, type SessionType } from '../../../src/session/session_state.ts';

export const DEFAULT_TEST_SETTINGS: AgentRuntimeSettings = {
  maxToolSteps: 4,
  toolTimeoutMs: 1000,
  interruptMinSpeechMs: 0,
  captionMaxTokens: 64,
  contextBudgetTokens: 4096,
};

export function testServices(): AgentServices {
  return {
    now: () => new Date('2026-03-01T12:00:00Z'),
    itineraries: () => {
      throw new Error('no itinerary store in this test');
    },
    callCenter: () => {
      throw new Error('no call-center store in this test');
    },
    remote: () => undefined,
    fetch: () => Promise.reject(new Error('no network in tests')),
    close: () => {},
  };
}

export const lookupCalls: Record<string, unknown>[] = [];
export const lookupTool = defineTool({
  name: 'lookup',
  description: 'Weather of a city',
  parameters: z.object({ city: z.string().min(1) }),
  execute: ({ city }) => {
    lookupCalls.push({ city });
    return { city, weather: 'sunny' };
  },
});

export function testAgent(tools: ServerTool[] = [lookupTool], sessionType: SessionType = 'realtime'): AgentDefinition {
  return defineAgent({
    name: 'tester',
    description: 'test agent',
    instructions: 'You are a test.',
    tools,
    sessionType,
    generation: { maxOutputTokens: 200 },
  });
}

export interface Harness {
  runtime: AgentRuntime;
  state: SessionState;
  events: ServerEventPayload[];
  errors: { code: ErrorCode; message: string }[];
  types(): string[];
  ofType<T extends ServerEventPayload['type']>(type: T): Extract<ServerEventPayload, { type: T }>[];
}

export function makeHarness(opts: {
  engine: SpeechEngine | null;
  agent?: AgentDefinition;
  settings?: Partial<AgentRuntimeSettings>;
  sessionType?: SessionType;
}): Harness {
  const state = new SessionState(defaultConfig(), opts.sessionType ?? 'realtime');
  const events: ServerEventPayload[] = [];
  const errors: Harness['errors'] = [];
  const runtime = new AgentRuntime({
    engine: opts.engine,
    engineUnavailable: opts.engine
      ? undefined
      : new EarshotError('E_MODEL_MISSING', 'No model at /nowhere: run `earshot model pull`, or pass --model DIR.'),
    state,
    agent: opts.agent ?? testAgent(),
    settings: { ...DEFAULT_TEST_SETTINGS, ...opts.settings },
    services: testServices(),
    items: new ItemChain(),
    emit: (e) => events.push(e),
    emitError: (code, message) => errors.push({ code, message }),
    log: createLogger('silent'),
  });
  return {
    runtime,
    state,
    events,
    errors,
    types: () => events.map((e) => e.type),
    ofType: <T extends ServerEventPayload['type']>(type: T) =>
      events.filter((e): e is Extract<ServerEventPayload, { type: T }> => e.type === type),
  };
}

let nextUtterance = 0;
/** An utterance of `durationMs` of (silent) audio; the scripted engine's `transcribe` decides what it "says". */
export function utterance(durationMs = 1000, fill = 0): Utterance {
  const samples = Math.round(durationMs * 16);
  const pcm16k = new Float32Array(samples).fill(fill);
  nextUtterance++;
  return {
    itemId: `item_u${nextUtterance}`,
    pcm16k,
    startSample: 0,
    endSample: samples,
    speechStartMs: 0,
    speechEndMs: durationMs,
    endReason: 'silence',
  };
}

/** Concatenated output_text deltas of one response. */
export function saidIn(events: ServerEventPayload[], responseId: string): string {
  return events
    .filter(
      (e): e is Extract<ServerEventPayload, { type: 'response.output_text.delta' }> =>
        e.type === 'response.output_text.delta' && e.response_id === responseId,
    )
    .map((e) => e.delta)
    .join('');
}
