// Token ids of Phi-4-multimodal-instruct (docs/model.md). These are the ids the ONNX graphs
// and the chat template agree on; the loaded tokenizer is checked against them at load time.

export const TOKEN_ID = {
  endOfText: 199999,
  image: 200010,
  audio: 200011,
  endOfPrompt: 200018,
  assistant: 200019,
  end: 200020,
  user: 200021,
  system: 200022,
  tool: 200023,
  toolEnd: 200024,
  toolCall: 200025,
  toolCallEnd: 200026,
  toolResponse: 200027,
  tag: 200028,
} as const;

/** Highest id of a real Phi-4-mm token; logit columns above it (up to vocab 200064) are padding. */
export const PHI4MM_LAST_REAL_TOKEN_ID = 200028;

/** Default stop ids: `<|end|>` and `<|endoftext|>` (genai_config eos_token_id). */
export const DEFAULT_STOP_IDS: readonly number[] = [TOKEN_ID.end, TOKEN_ID.endOfText];

export interface AddedTokenSpec {
  id: number;
  content: string;
  /** The real tokenizer marks the tool tokens non-special so that decoding keeps them as text. */
  special: boolean;
}

export const PHI4MM_ADDED_TOKENS: readonly AddedTokenSpec[] = [
  { id: 199999, content: '<|endoftext|>', special: true },
  { id: 200010, content: '<|endoftext10|>', special: true },
  { id: 200011, content: '<|endoftext11|>', special: true },
  { id: 200018, content: '<|endofprompt|>', special: true },
  { id: 200019, content: '<|assistant|>', special: true },
  { id: 200020, content: '<|end|>', special: true },
  { id: 200021, content: '<|user|>', special: true },
  { id: 200022, content: '<|system|>', special: true },
  { id: 200023, content: '<|tool|>', special: false },
  { id: 200024, content: '<|/tool|>', special: false },
  { id: 200025, content: '<|tool_call|>', special: false },
  { id: 200026, content: '<|/tool_call|>', special: false },
  { id: 200027, content: '<|tool_response|>', special: false },
  { id: 200028, content: '<|tag|>', special: true },
];
