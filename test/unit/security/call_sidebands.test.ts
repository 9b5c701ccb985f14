import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/observability/logger.ts';
import { AdmissionController } from '../../../src/transport/admission.ts';
import { CallSidebands } from '../../../src/transport/call_sidebands.ts';
import type { SocketPeer } from '../../../src/transport/ws_server.ts';

// Sidebands hold admission tickets, so the session deadlines (idle, duration) apply to them too.

function recordingPeer() {
  const sent: { type: string; error?: { code: string } }[] = [];
  const closes: number[] = [];
  const peer: SocketPeer = {
    sendText: (text) => sent.push(JSON.parse(text) as { type: string }),
    pauseInput() {},
    resumeInput() {},
    close: (code) => closes.push(code),
  };
  return { peer, sent, closes };
}

const target = { attachSideband: () => ({ handleText() {}, handleBinary() {}, dispose() {} }) };

describe('CallSidebands', () => {
  // The deadlines are timers on Date.now(): fake both, so a deadline is hit exactly, not after a real wait.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes an idle sideband with E_IDLE_TIMEOUT and frees its slot on dispose', async () => {
    const admission = new AdmissionController({
      maxSessions: 10,
      maxSessionsPerKey: 10,
      maxSessionDurationMs: 60_000,
      idleTimeoutMs: 60,
    });
    const sidebands = new CallSidebands<'ga'>({ admission, log: createLogger('silent') });
    sidebands.register('rtc_1', 'key_a', target);
    const { peer, sent, closes } = recordingPeer();
    const handler = sidebands.open(peer, { kind: 'api_key', keyId: 'key_a' }, 'rtc_1', 'ga');
    expect(admission.activeFor('key_a')).toBe(1);
    await vi.advanceTimersByTimeAsync(59);
    expect(closes).toEqual([]); // not idle yet
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_IDLE_TIMEOUT' } });
    expect(closes).toEqual([1008]);
    handler.dispose();
    expect(admission.activeFor('key_a')).toBe(0);
  });

  it('closes a sideband at the maximum session duration even while it talks', async () => {
    const admission = new AdmissionController({
      maxSessions: 10,
      maxSessionsPerKey: 10,
      maxSessionDurationMs: 80,
      idleTimeoutMs: 60_000,
    });
    const sidebands = new CallSidebands<'ga'>({ admission, log: createLogger('silent') });
    sidebands.register('rtc_1', 'key_a', target);
    const { peer, sent, closes } = recordingPeer();
    const handler = sidebands.open(peer, { kind: 'api_key', keyId: 'key_a' }, 'rtc_1', 'ga');
    for (let i = 0; i < 2; i++) {
      handler.handleText('{}');
      await vi.advanceTimersByTimeAsync(30);
    }
    handler.handleText('{}');
    await vi.advanceTimersByTimeAsync(19);
    expect(closes).toEqual([]); // talking, and under the maximum duration
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_SESSION_EXPIRED' } });
    expect(closes).toEqual([1008]);
  });

  it('closes every sideband of a call when it ends, and refuses new ones', () => {
    const admission = new AdmissionController({
      maxSessions: 10,
      maxSessionsPerKey: 10,
      maxSessionDurationMs: 60_000,
      idleTimeoutMs: 60_000,
    });
    const sidebands = new CallSidebands<'ga'>({ admission, log: createLogger('silent') });
    sidebands.register('rtc_1', 'key_a', target);
    const peers = [recordingPeer(), recordingPeer()];
    for (const p of peers) sidebands.open(p.peer, { kind: 'api_key', keyId: 'key_a' }, 'rtc_1', 'ga');
    sidebands.end('rtc_1');
    expect(peers.map((p) => p.closes)).toEqual([[1000], [1000]]);
    const late = recordingPeer();
    sidebands.open(late.peer, { kind: 'api_key', keyId: 'key_a' }, 'rtc_1', 'ga');
    expect(late.closes).toEqual([1008]);
  });
});
