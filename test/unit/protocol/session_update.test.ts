import { describe, expect, it } from 'vitest';
import { decodeOk } from './helpers.ts';

// Payloads as real clients send them. Shapes are taken from the clients' own code:
// - @openai/agents-realtime `OpenAIRealtimeBase._getMergedSessionConfig` (defaults: output_modalities
//   ['audio'], pcm 24 kHz in and out, semantic_vad, gpt-4o-mini-transcribe, noise_reduction null, speed 1;
//   tools reduced to {type, name, description, parameters}) and its tracing-only updates;
// - the `openai` package's examples/realtime/websocket.ts and its RealtimeSessionCreateRequest /
//   RealtimeTranscriptionSessionCreateRequest types;
// - the beta (`realtime=v1`) flat fields for transcription_session.update.

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Get the weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
    $schema: 'http://json-schema.org/draft-07/schema#',
  },
};

const agentsRealtimeDefault = {
  type: 'session.update',
  session: {
    type: 'realtime',
    instructions: 'You are a helpful travel assistant.',
    model: 'gpt-realtime',
    output_modalities: ['audio'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        noise_reduction: null,
        transcription: { model: 'gpt-4o-mini-transcribe' },
        turn_detection: { type: 'semantic_vad' },
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin', speed: 1 },
    },
    tool_choice: 'auto',
    tools: [weatherTool],
  },
};

const agentsRealtimeTextServerVad = {
  type: 'session.update',
  session: {
    type: 'realtime',
    instructions: 'Answer in one sentence.',
    model: 'gpt-realtime-2.1',
    output_modalities: ['text'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        noise_reduction: { type: 'near_field' },
        transcription: {
          model: 'gpt-transcribe',
          keywords: ['Earshot'],
          languages: ['en', 'fr'],
          prompt: 'A conversation about trains.',
        },
        turn_detection: {
          type: 'server_vad',
          create_response: true,
          interrupt_response: true,
          prefix_padding_ms: 300,
          silence_duration_ms: 500,
          idle_timeout_ms: 6000,
          threshold: 0.5,
          model_version: 'default',
        },
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, speed: 1 },
    },
    tool_choice: 'required',
    parallel_tool_calls: false,
    reasoning: { effort: 'low' },
    prompt: { id: 'pmpt_123', version: '2', variables: { city: 'Paris' } },
    tools: [
      weatherTool,
      { type: 'mcp', server_label: 'deepwiki', server_url: 'https://mcp.deepwiki.com/mcp', require_approval: 'never' },
    ],
  },
};

const agentsRealtimeManualTurns = {
  type: 'session.update',
  session: {
    type: 'realtime',
    model: 'gpt-realtime',
    output_modalities: ['text'],
    audio: {
      input: { format: { type: 'audio/pcmu' }, noise_reduction: null, transcription: null, turn_detection: null },
      output: { format: { type: 'audio/pcma' }, speed: 1 },
    },
    tool_choice: 'auto',
  },
};

const openaiPackageExample = { type: 'session.update', session: { output_modalities: ['text'], type: 'realtime' } };

const gaFullRealtime = {
  type: 'session.update',
  event_id: 'event_client_1',
  session: {
    type: 'realtime',
    model: 'gpt-realtime',
    instructions: 'Speak clearly and briefly.',
    output_modalities: ['text'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 16000 },
        transcription: { model: 'whisper-1', language: 'de', prompt: '', translate_to: 'en' },
        turn_detection: { type: 'semantic_vad', eagerness: 'high', create_response: false, interrupt_response: true },
      },
    },
    tools: [weatherTool],
    tool_choice: { type: 'function', name: 'get_weather' },
    max_output_tokens: 4096,
    include: ['item.input_audio_transcription.logprobs'],
    tracing: { workflow_name: 'earshot-test', group_id: 'g1', metadata: { run: 1 } },
    truncation: { type: 'retention_ratio', retention_ratio: 0.8 },
  },
};

const gaTranscription = {
  type: 'session.update',
  session: {
    type: 'transcription',
    audio: {
      input: {
        format: { type: 'audio/pcma' },
        noise_reduction: { type: 'far_field' },
        transcription: { model: 'gpt-4o-transcribe', prompt: '', language: 'en' },
        turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
      },
    },
    include: ['item.input_audio_transcription.logprobs'],
  },
};

const betaTranscription = {
  type: 'transcription_session.update',
  session: {
    input_audio_format: 'pcm16',
    input_audio_transcription: { model: 'gpt-4o-transcribe', prompt: '', language: '' },
    turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
    input_audio_noise_reduction: { type: 'near_field' },
    include: ['item.input_audio_transcription.logprobs'],
  },
};

const betaRealtime = {
  type: 'session.update',
  session: {
    modalities: ['text'],
    instructions: 'Be brief.',
    voice: 'alloy',
    input_audio_format: 'g711_ulaw',
    output_audio_format: 'pcm16',
    input_audio_transcription: { model: 'whisper-1' },
    turn_detection: {
      type: 'server_vad',
      threshold: 0.6,
      prefix_padding_ms: 200,
      silence_duration_ms: 700,
      create_response: true,
    },
    temperature: 0.8,
    max_response_output_tokens: 'inf',
    tools: [weatherTool],
    tool_choice: 'auto',
  },
};

const tracingOnly = [
  { type: 'session.update', session: { type: 'realtime', tracing: 'auto' } },
  { type: 'session.update', session: { type: 'realtime', tracing: null } },
  { type: 'session.update', session: { type: 'realtime', tracing: { workflow_name: 'Realtime Agent' } } },
];

describe('session.update with payloads real clients send', () => {
  it('accepts the agents-realtime default payload and keeps every field', () => {
    const event = decodeOk(agentsRealtimeDefault);
    expect(event).toEqual(agentsRealtimeDefault);
  });

  it('accepts agents-realtime text + server_vad + mixed tools, unknown fields kept', () => {
    const event = decodeOk(agentsRealtimeTextServerVad);
    expect(event).toEqual(agentsRealtimeTextServerVad);
  });

  it('accepts manual turns (turn_detection null) with G.711 formats', () => {
    const event = decodeOk(agentsRealtimeManualTurns);
    if (event.type !== 'session.update') throw new Error(event.type);
    expect(event.session.audio?.input?.turn_detection).toBeNull();
    expect(event.session.audio?.input?.format).toEqual({ type: 'audio/pcmu' });
  });

  it('accepts the openai package example and a full GA payload', () => {
    expect(decodeOk(openaiPackageExample)).toEqual(openaiPackageExample);
    const event = decodeOk(gaFullRealtime);
    expect(event).toEqual(gaFullRealtime);
    if (event.type !== 'session.update') throw new Error(event.type);
    expect(event.session.audio?.input?.transcription?.translate_to).toBe('en');
  });

  it('accepts GA and beta transcription sessions', () => {
    expect(decodeOk(gaTranscription)).toEqual(gaTranscription);
    expect(decodeOk(betaTranscription)).toEqual(betaTranscription);
  });

  it('accepts the beta flat session fields', () => {
    expect(decodeOk(betaRealtime)).toEqual(betaRealtime);
  });

  it('accepts the tracing-only updates agents-realtime sends', () => {
    for (const event of tracingOnly) expect(decodeOk(event)).toEqual(event);
  });
});
