// Phi-4-mm chat template (docs/model.md, "Tokens and prompts"): no BOS, no newlines between turns.
//   <|system|>{content}<|tool|>{tools json}<|/tool|><|end|>   (tool part only when tools exist)
//   <|user|>{content}<|end|>  <|assistant|>{content}<|end|>  <|tool_response|>{json}<|end|>
//   ... <|assistant|>  (generation prompt)
// Control tokens are emitted as ids and message text is encoded literally, so a user who types
// "<|end|>" cannot forge a turn boundary. `<|audio_k|>` in user text becomes one 200011 id, later
// expanded to the audio's token count.

import { EarshotError } from '../../errors.ts';
import type { Phi4Tokenizer } from './tokenizer.ts';
import { TOKEN_ID } from './tokenizer_ids.ts';

/** A tool as the agent layer describes it: JSON-schema parameters (what zod-to-JSON-schema produces). */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: {
    type?: string;
    properties?: Record<string, JsonSchemaProperty>;
    required?: string[];
  };
}

export interface JsonSchemaProperty {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchemaProperty;
}

// Phi-4's tool list uses Python type names (docs/model.md, "Tokens and prompts": JSON-schema `string` is written `str`).
const PYTHON_TYPE: Record<string, string> = {
  string: 'str',
  integer: 'int',
  number: 'float',
  boolean: 'bool',
  array: 'list',
  object: 'dict',
  null: 'None',
};

function pythonType(type: string | string[] | undefined): string | undefined {
  if (type === undefined) return undefined;
  const types = (Array.isArray(type) ? type : [type]).map((t) => PYTHON_TYPE[t] ?? t);
  return types.join(' | ');
}

/** JSON as Python's json.dumps writes it (", " and ": " separators), the form Phi-4 saw in training. */
export function pythonJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
}

/** `[{"name": ..., "description": ..., "parameters": {"city": {"description": ..., "type": "str", "default": ...}}}]` */
export function toPhiToolsJson(tools: readonly ToolDefinition[]): string {
  return pythonJson(
    tools.map((tool) => {
      const parameters: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(tool.parameters?.properties ?? {})) {
        parameters[name] = {
          description: prop.description,
          type: pythonType(prop.type),
          default: prop.default,
          enum: prop.enum,
        };
      }
      return { name: tool.name, description: tool.description ?? '', parameters };
    }),
  );
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; content: string };

export interface ChatPromptInput {
  messages: readonly ChatMessage[];
  tools?: readonly ToolDefinition[];
  /** Audio token count of each clip referenced as `<|audio_1|>`, `<|audio_2|>`... (in order). */
  audioTokenCounts?: readonly number[];
  /** End with `<|assistant|>` so the model answers. Default true. */
  addGenerationPrompt?: boolean;
}

export interface ChatPrompt {
  /** Prompt ids with every audio placeholder expanded to its clip's token count. */
  inputIds: number[];
  /** Where each clip's rows land: `[start, start + length)` in inputIds, in clip order. */
  audioSpans: { start: number; length: number }[];
}

const AUDIO_PLACEHOLDER = /<\|audio_(\d+)\|>/g;

/**
 * Appends `ids` to `out` one by one: `out.push(...ids)` passes every id as an argument and overflows the
 * call stack past about 120k ids (a 1 MB text), which would surface as an engine failure instead of the
 * context-budget error the caller should get.
 */
export function appendIds(out: number[], ids: readonly number[]): void {
  for (let i = 0; i < ids.length; i++) out.push(ids[i]);
}

/** Encode user text, turning `<|audio_k|>` into single 200011 ids; returns the k of each placeholder. */
function encodeWithAudio(tokenizer: Phi4Tokenizer, text: string, out: number[], audioRefs: number[]): void {
  let last = 0;
  for (const match of text.matchAll(AUDIO_PLACEHOLDER)) {
    appendIds(out, tokenizer.encodeLiteral(text.slice(last, match.index)));
    out.push(TOKEN_ID.audio);
    audioRefs.push(Number(match[1]));
    last = match.index + match[0].length;
  }
  appendIds(out, tokenizer.encodeLiteral(text.slice(last)));
}

function renderToolCalls(calls: readonly ToolCall[]): string {
  return pythonJson(calls.map((c) => ({ name: c.name, arguments: c.arguments })));
}

/** Token ids of a chat, with one 200011 id per audio placeholder (not yet expanded). */
export function encodeChat(tokenizer: Phi4Tokenizer, input: ChatPromptInput): { ids: number[]; audioRefs: number[] } {
  const ids: number[] = [];
  const audioRefs: number[] = [];
  const tools = input.tools ?? [];
  const messages = [...input.messages];
  if (tools.length > 0 && !messages.some((m) => m.role === 'system')) messages.unshift({ role: 'system', content: '' });
  let toolsWritten = false;
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        ids.push(TOKEN_ID.system);
        appendIds(ids, tokenizer.encodeLiteral(m.content));
        if (tools.length > 0 && !toolsWritten) {
          ids.push(TOKEN_ID.tool);
          appendIds(ids, tokenizer.encodeLiteral(toPhiToolsJson(tools)));
          ids.push(TOKEN_ID.toolEnd);
          toolsWritten = true;
        }
        break;
      case 'user':
        ids.push(TOKEN_ID.user);
        encodeWithAudio(tokenizer, m.content, ids, audioRefs);
        break;
      case 'assistant':
        ids.push(TOKEN_ID.assistant);
        appendIds(ids, tokenizer.encodeLiteral(m.content));
        if (m.toolCalls !== undefined && m.toolCalls.length > 0) {
          ids.push(TOKEN_ID.toolCall);
          appendIds(ids, tokenizer.encodeLiteral(renderToolCalls(m.toolCalls)));
          ids.push(TOKEN_ID.toolCallEnd);
        }
        break;
      case 'tool':
        ids.push(TOKEN_ID.toolResponse);
        appendIds(ids, tokenizer.encodeLiteral(m.content));
        break;
    }
    ids.push(TOKEN_ID.end);
  }
  if (input.addGenerationPrompt ?? true) ids.push(TOKEN_ID.assistant);
  return { ids, audioRefs };
}

/**
 * Replace each single 200011 id by `audioTokenCounts[i]` copies, in order. The embedding graph writes
 * feature rows, in order, wherever input_ids == 200011, so the counts must match exactly.
 */
export function expandAudioPlaceholders(ids: readonly number[], audioTokenCounts: readonly number[]): ChatPrompt {
  const placeholders = ids.reduce((n, id) => n + (id === TOKEN_ID.audio ? 1 : 0), 0);
  if (placeholders !== audioTokenCounts.length) {
    throw new EarshotError(
      'E_PROMPT_AUDIO_MISMATCH',
      `The prompt has ${placeholders} audio placeholder(s) but ${audioTokenCounts.length} audio clip(s) were given.`,
    );
  }
  const inputIds: number[] = [];
  const audioSpans: { start: number; length: number }[] = [];
  let clip = 0;
  for (const id of ids) {
    if (id !== TOKEN_ID.audio) {
      inputIds.push(id);
      continue;
    }
    const count = audioTokenCounts[clip++];
    if (!Number.isInteger(count) || count < 1) {
      throw new EarshotError('E_PROMPT_AUDIO_MISMATCH', `Audio clip ${clip} has an invalid token count ${count}.`);
    }
    audioSpans.push({ start: inputIds.length, length: count });
    for (let i = 0; i < count; i++) inputIds.push(TOKEN_ID.audio);
  }
  return { inputIds, audioSpans };
}

/** Encode a chat and expand its audio placeholders; `<|audio_k|>` must name clips 1..N, each once, in order. */
export function buildChatPrompt(tokenizer: Phi4Tokenizer, input: ChatPromptInput): ChatPrompt {
  const { ids, audioRefs } = encodeChat(tokenizer, input);
  const counts = input.audioTokenCounts ?? [];
  if (audioRefs.length !== counts.length) {
    throw new EarshotError(
      'E_PROMPT_AUDIO_MISMATCH',
      `The prompt has ${audioRefs.length} audio placeholder(s) but ${counts.length} audio clip(s) were given.`,
    );
  }
  audioRefs.forEach((k, i) => {
    if (k !== i + 1) {
      throw new EarshotError(
        'E_PROMPT_AUDIO_MISMATCH',
        `Audio placeholder number ${i + 1} is <|audio_${k}|>; placeholders must be <|audio_1|>..<|audio_${counts.length}|> in order.`,
      );
    }
  });
  return expandAudioPlaceholders(ids, counts);
}

/** The prompt as text, for logs and for comparison with Hugging Face's template (placeholders unexpanded). */
export function renderChatText(input: Omit<ChatPromptInput, 'audioTokenCounts'>): string {
  const tools = input.tools ?? [];
  const messages = [...input.messages];
  if (tools.length > 0 && !messages.some((m) => m.role === 'system')) messages.unshift({ role: 'system', content: '' });
  let toolsWritten = false;
  let text = '';
  for (const m of messages) {
    if (m.role === 'system') {
      text += `<|system|>${m.content}`;
      if (tools.length > 0 && !toolsWritten) {
        text += `<|tool|>${toPhiToolsJson(tools)}<|/tool|>`;
        toolsWritten = true;
      }
    } else if (m.role === 'user') {
      text += `<|user|>${m.content}`;
    } else if (m.role === 'assistant') {
      text += `<|assistant|>${m.content}`;
      if (m.toolCalls !== undefined && m.toolCalls.length > 0)
        text += `<|tool_call|>${renderToolCalls(m.toolCalls)}<|/tool_call|>`;
    } else {
      text += `<|tool_response|>${m.content}`;
    }
    text += '<|end|>';
  }
  if (input.addGenerationPrompt ?? true) text += '<|assistant|>';
  return text;
}

/** User-turn texts of the tasks Microsoft trained (docs/model.md, "Tokens and prompts"). */
export const TASK_PROMPTS = {
  asr: (): string => '<|audio_1|>Transcribe the audio clip into text.',
  translate: (language: string): string => `<|audio_1|>Translate the audio to ${language}.`,
  asrAndTranslate: (language: string): string =>
    `<|audio_1|>Transcribe the audio to text, and then translate the audio to ${language}. ` +
    'Use <sep> as a separator between the original transcript and the translation.',
  spokenQuery: (): string => '<|audio_1|>',
  summarize: (instruction = 'Summarize the audio clip.'): string => `<|audio_1|>${instruction}`,
} as const;

/** One-turn task prompt for a single clip: `<|user|><|audio_1|>...<|end|><|assistant|>`. */
export function buildTaskPrompt(
  tokenizer: Phi4Tokenizer,
  userText: string,
  audioTokens: number,
  system?: string,
): ChatPrompt {
  const messages: ChatMessage[] = system === undefined ? [] : [{ role: 'system', content: system }];
  messages.push({ role: 'user', content: userText });
  return buildChatPrompt(tokenizer, { messages, audioTokenCounts: [audioTokens] });
}
