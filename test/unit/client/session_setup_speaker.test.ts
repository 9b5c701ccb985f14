import { describe, expect, it } from 'vitest';
import { outputModalities, sessionUpdateFor, type SessionSetup } from '../../../client/core/session_setup.ts';

const base: SessionSetup = { agent: 'assistant', mode: 'agent', transport: 'webrtc' };

describe('the speaker toggle in the first session.update', () => {
  it('asks for spoken answers only with the speaker on over WebRTC (they play on the call track)', () => {
    expect(sessionUpdateFor({ ...base, speaker: true }).session.output_modalities).toEqual(['audio']);
    expect(sessionUpdateFor({ ...base, speaker: false }).session.output_modalities).toEqual(['text']);
    expect(sessionUpdateFor(base).session.output_modalities).toEqual(['text']);
    // Over WebSocket the page has no player for audio deltas: text answers whatever the toggle says.
    expect(outputModalities({ ...base, transport: 'websocket', speaker: true })).toEqual(['text']);
  });

  it('captions sessions never carry output_modalities', () => {
    expect(sessionUpdateFor({ ...base, mode: 'captions', speaker: true }).session.output_modalities).toBeUndefined();
  });
});
