// Logs for people: a pino JSON line rewritten as one readable line (used when stderr is a terminal).
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../../src/observability/logger.ts';

describe('formatLogLine', () => {
  it('puts time, level and message first, then the record fields, without the noise', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 2, 3, 4, 5),
      service: 'earshot',
      code: 'E_MODEL_MISSING',
      port: 8787,
      msg: 'no model',
    });
    expect(formatLogLine(line)).toBe('03:04:05 WARN  no model code=E_MODEL_MISSING port=8787');
  });

  it('leaves a line that is not JSON as it is', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
  });
});
