import { describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { ClientFaultLog } from '../../../src/observability/client_fault_log.ts';
import type { Logger } from '../../../src/observability/logger.ts';

// Client-caused turn failures were logged at error level with a stack, one per
// failure (1,127 lines in 20 s). They are warn lines without a stack, at most perWindow per window.

function recordingLog() {
  const lines: { level: string; data: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (data: Record<string, unknown>, message: string) =>
    lines.push({ level, data, message });
  return {
    log: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as Logger,
    lines,
  };
}

describe('ClientFaultLog', () => {
  it('logs client-caused failures at warn without the error object, rate-limited with a count of the rest', () => {
    let now = 0;
    const faults = new ClientFaultLog({ perWindow: 3, windowMs: 1000, nowMs: () => now });
    const { log, lines } = recordingLog();
    for (let i = 0; i < 50; i++) faults.turnFailed(log, new EarshotError('E_CONTEXT_OVERFLOW', 'too long'));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.level).toBe('warn');
      expect(line.data).toEqual({ code: 'E_CONTEXT_OVERFLOW', message: 'too long' });
    }
    now = 1500;
    faults.turnFailed(log, new EarshotError('E_TEXT_TOO_LARGE'));
    expect(lines[3]).toMatchObject({ level: 'warn', data: { suppressed: 47 } });
    expect(lines[4]).toMatchObject({ level: 'warn', data: { code: 'E_TEXT_TOO_LARGE' } });
  });

  it('keeps server faults and unexpected exceptions at error level with the error, never rate-limited', () => {
    const faults = new ClientFaultLog({ perWindow: 1 });
    const { log, lines } = recordingLog();
    const errors = [
      new EarshotError('E_ENGINE', 'onnx failed'),
      new TypeError('bug'),
      new EarshotError('E_INTERNAL'),
      new TypeError('bug 2'),
    ];
    for (const err of errors) faults.turnFailed(log, err);
    expect(lines.map((l) => l.level)).toEqual(['error', 'error', 'error', 'error']);
    expect(lines.map((l) => l.data.err)).toEqual(errors);
  });
});
