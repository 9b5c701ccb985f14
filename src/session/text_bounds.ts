// Size bounds on the text a client event asks the engine to tokenize: conversation items (their text,
// function arguments and outputs) and instructions (session and response). Checked on the event before
// anything is queued or tokenized, so an oversized text costs one Buffer.byteLength, never engine time.
import type { LimitsConfig } from '../config/auth_limits_store_schema.ts';
import { EarshotError } from '../errors.ts';
import type { ClientEvent } from '../protocol/client_events.ts';
import { itemTextBytes, stringBytes } from '../agent/text_cost.ts';

export interface TextBounds {
  maxItemTextBytes: number;
  maxInstructionsBytes: number;
}

export function textBoundsFromConfig(
  limits: Pick<LimitsConfig, 'max_item_text_bytes' | 'max_instructions_bytes'>,
): TextBounds {
  return { maxItemTextBytes: limits.max_item_text_bytes, maxInstructionsBytes: limits.max_instructions_bytes };
}

/** Throws E_TEXT_TOO_LARGE (with the offending param) when the event carries text over its bound. */
export function checkTextBounds(event: ClientEvent, bounds: TextBounds): void {
  const e = event as {
    type: string;
    item?: unknown;
    session?: Record<string, unknown>;
    response?: Record<string, unknown>;
  };
  if (e.type === 'conversation.item.create') checkItem(e.item, 'item', bounds);
  if ((e.type === 'session.update' || e.type === 'transcription_session.update') && e.session)
    checkConfig(e.session, 'session', bounds);
  if (e.type === 'response.create' && e.response) {
    checkConfig(e.response, 'response', bounds);
    const input = e.response.input;
    if (Array.isArray(input)) input.forEach((item, i) => checkItem(item, `response.input[${i}]`, bounds));
  }
}

function checkConfig(config: Record<string, unknown>, param: string, bounds: TextBounds): void {
  const instructions = stringBytes(config.instructions);
  if (instructions > bounds.maxInstructionsBytes) {
    throw new EarshotError(
      'E_TEXT_TOO_LARGE',
      `${param}.instructions is ${instructions} bytes; the limit is ${bounds.maxInstructionsBytes} (limits.max_instructions_bytes).`,
      { param: `${param}.instructions` },
    );
  }
  if (Array.isArray(config.tools)) {
    const tools = Buffer.byteLength(JSON.stringify(config.tools));
    if (tools > bounds.maxInstructionsBytes) {
      throw new EarshotError(
        'E_TEXT_TOO_LARGE',
        `${param}.tools is ${tools} bytes of JSON; the limit is ${bounds.maxInstructionsBytes} (limits.max_instructions_bytes).`,
        { param: `${param}.tools` },
      );
    }
  }
}

function checkItem(item: unknown, param: string, bounds: TextBounds): void {
  const bytes = itemTextBytes(item);
  if (bytes > bounds.maxItemTextBytes) {
    throw new EarshotError(
      'E_TEXT_TOO_LARGE',
      `The ${param} carries ${bytes} bytes of text; the limit is ${bounds.maxItemTextBytes} (limits.max_item_text_bytes).`,
      { param },
    );
  }
}
