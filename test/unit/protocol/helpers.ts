import { expect } from 'vitest';
import { decodeClientEvent, type ClientEvent, type DecodeFailure } from '../../../src/protocol/index.ts';

export function decodeOk(event: unknown): ClientEvent {
  const result = decodeClientEvent(JSON.stringify(event));
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.message}`);
  return result.event;
}

export function decodeFail(event: unknown): DecodeFailure {
  const result = decodeClientEvent(typeof event === 'string' ? event : JSON.stringify(event));
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  return result;
}
