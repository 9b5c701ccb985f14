// Chat messages as engine turns. Each turn has a key: a canonical string of what the model sees from it,
// so a later request whose messages start with the same keys can continue a cached session (prefix reuse).
// Keys leave out what the model never sees (tool call ids, JSON spacing of arguments).
import { createHash } from 'node:crypto';
import { decodeWavAs16k } from '../audio/wav_input.ts';
import type { EngineSession, SpeechEngine, ToolSpec, UserPart } from '../engine/engine_session.ts';
import { EarshotError } from '../errors.ts';
import type { ChatMessage, ChatRequest, ChatToolCall } from './chat_schema.ts';

export interface ChatTurn {
  key: string;
  /** Appends the turn; audio is decoded and encoded only here, so a reused prefix costs nothing. */
  apply(session: EngineSession, engine: SpeechEngine): Promise<void>;
}

export interface TurnLimits {
  maxAudioMs: number;
  /** Audio tokens of this request's own (not reused) turns are added here, for usage. */
  usage: { audioTokens: number };
}

export function toolSpecs(req: ChatRequest): ToolSpec[] {
  return (req.tools ?? []).map((t) => ({
    name: t.function.name,
    description: t.function.description ?? '',
    parameters: t.function.parameters ?? {},
  }));
}

/** The request's messages as turns. Tools go with the first system message (or a system turn of their own). */
export function chatTurns(req: ChatRequest, limits: TurnLimits): ChatTurn[] {
  const tools = toolSpecs(req);
  const turns: ChatTurn[] = [];
  const messages = req.messages;
  const leadingSystem = messages[0].role === 'system' || messages[0].role === 'developer';
  if (!leadingSystem && tools.length > 0) turns.push(systemTurn('', tools));
  messages.forEach((message, i) => turns.push(messageTurn(message, i, i === 0 && leadingSystem ? tools : [], limits)));
  return turns;
}

function systemTurn(instructions: string, tools: ToolSpec[]): ChatTurn {
  return {
    key: canonical({ role: 'system', text: instructions, tools }),
    apply: (session) => session.appendSystem({ instructions, ...(tools.length > 0 ? { tools } : {}) }),
  };
}

function messageTurn(message: ChatMessage, index: number, tools: ToolSpec[], limits: TurnLimits): ChatTurn {
  switch (message.role) {
    case 'system':
    case 'developer':
      return systemTurn(textOf(message.content, index), tools);
    case 'assistant': {
      const text = assistantText(textOf(message.content ?? '', index), message.tool_calls ?? []);
      return {
        key: assistantKey(textOf(message.content ?? '', index), message.tool_calls ?? []),
        apply: (session) => session.appendAssistant(text),
      };
    }
    case 'tool': {
      const text = textOf(message.content, index);
      return { key: canonical({ role: 'tool', text }), apply: (session) => session.appendToolResponse(text) };
    }
    case 'user':
      return userTurn(message.content, index, limits);
  }
}

/** The key of an assistant message as a client sends it back (what the server returned, ids aside). */
export function assistantKey(content: string, calls: readonly ChatToolCall[]): string {
  return canonical({
    role: 'assistant',
    text: content,
    calls: calls.map((c) => ({ name: c.function.name, arguments: canonicalArguments(c.function.arguments) })),
  });
}

/** An earlier assistant turn with tool calls, written in Phi-4's call form. */
export function assistantText(content: string, calls: readonly ChatToolCall[]): string {
  if (calls.length === 0) return content;
  const body = calls
    .map(
      (c) => `{"name": ${JSON.stringify(c.function.name)}, "arguments": ${canonicalArguments(c.function.arguments)}}`,
    )
    .join(', ');
  return `${content}<|tool_call|>[${body}]<|/tool_call|>`;
}

function canonicalArguments(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args));
  } catch {
    return args;
  }
}

type UserContent = Extract<ChatMessage, { role: 'user' }>['content'];

function userTurn(content: UserContent, index: number, limits: TurnLimits): ChatTurn {
  const parts = typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content;
  const keyParts: unknown[] = [];
  for (const [j, part] of parts.entries()) {
    if (part.type === 'text') keyParts.push({ text: (part as { text: string }).text });
    else if (part.type === 'input_audio')
      keyParts.push({ audio: sha256((part as { input_audio: { data: string } }).input_audio.data) });
    else throw unsupportedPart(part.type, `messages[${index}].content[${j}]`);
  }
  return {
    key: canonical({ role: 'user', parts: keyParts }),
    apply: async (session, engine) => {
      const userParts: UserPart[] = [];
      const handles = [];
      try {
        for (const [j, part] of parts.entries()) {
          if (part.type === 'text') {
            userParts.push({ type: 'text', text: (part as { text: string }).text });
            continue;
          }
          const audio = (part as { input_audio: { data: string; format: string } }).input_audio;
          const pcm = decodeAudioPart(audio, `messages[${index}].content[${j}].input_audio`, limits.maxAudioMs);
          const handle = pcm.samples8k
            ? await engine.encodeAudio(pcm.samples8k, 8000)
            : await engine.encodeAudio(pcm.samples16k, 16000);
          handles.push(handle);
          limits.usage.audioTokens += handle.audioTokens;
          userParts.push({ type: 'audio', audio: handle });
        }
        await session.appendUser(userParts);
      } finally {
        for (const h of handles) engine.releaseAudio(h);
      }
    },
  };
}

function decodeAudioPart(
  audio: { data: string; format: string },
  param: string,
  maxAudioMs: number,
): { samples16k: Float32Array; samples8k?: Float32Array } {
  if (audio.format !== 'wav') {
    throw new EarshotError(
      'E_UNSUPPORTED_FORMAT',
      `input_audio.format ${JSON.stringify(audio.format.slice(0, 16))} is not supported; send base64 WAV (format "wav").`,
      { param: `${param}.format` },
    );
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(audio.data))
    throw new EarshotError('E_INVALID_BASE64', 'input_audio.data is not valid base64.', { param: `${param}.data` });
  let pcm: { samples16k: Float32Array; samples8k?: Float32Array };
  try {
    pcm = decodeWavAs16k(Buffer.from(audio.data, 'base64'));
  } catch (err) {
    if (err instanceof EarshotError) throw new EarshotError(err.code, err.message, { param: `${param}.data` });
    throw err;
  }
  const ms = (pcm.samples16k.length * 1000) / 16000;
  if (ms > maxAudioMs)
    throw new EarshotError(
      'E_AUDIO_TOO_LONG',
      `The audio part lasts ${Math.round(ms)} ms; the limit is ${maxAudioMs} ms (openai_api.max_chat_audio_ms).`,
      { param: `${param}.data` },
    );
  return pcm;
}

function textOf(content: string | readonly { type: string; text?: unknown }[], index: number): string {
  if (typeof content === 'string') return content;
  return content
    .map((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string')
        throw unsupportedPart(part.type, `messages[${index}].content[${j}]`);
      return part.text;
    })
    .join('');
}

function unsupportedPart(type: string, param: string): EarshotError {
  return new EarshotError(
    'E_UNSUPPORTED_FEATURE',
    `Content parts of type ${JSON.stringify(type.slice(0, 32))} are not supported here; use text (and input_audio in user messages).`,
    { param },
  );
}

function canonical(value: unknown): string {
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
