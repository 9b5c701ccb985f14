import { describe, expect, it } from 'vitest';
import { webrtcConfigSchema } from '../../../src/config/webrtc_schema.ts';
import { checkOffer } from '../../../src/transport/webrtc/sdp_offer.ts';

// A trimmed Chromium offer: audio + data channel.
const OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 AA:BB',
  'a=setup:actpass',
  'a=mid:0',
  'a=rtpmap:111 opus/48000/2',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=sctp-port:5000',
  '',
].join('\r\n');

describe('checkOffer', () => {
  it('accepts a browser-shaped offer and notes its audio', () => {
    expect(checkOffer(OFFER)).toEqual({ ok: true, hasAudio: true });
    expect(checkOffer(OFFER.replace(/\r\n/g, '\n'))).toEqual({ ok: true, hasAudio: true });
  });

  it('accepts a data-channel-only offer', () => {
    const dataOnly = OFFER.replace(/m=audio[\s\S]*?(?=m=application)/, '').replace(
      'm=application',
      'a=ice-ufrag:x\r\na=ice-pwd:y\r\na=fingerprint:sha-256 AA\r\nm=application',
    );
    expect(checkOffer(dataOnly)).toEqual({ ok: true, hasAudio: false });
  });

  it.each([
    ['', /v=0/],
    ['{"sdp":"v=0"}', /v=0/],
    [OFFER.replace('o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n', ''), /origin/],
    [OFFER.replace(/m=application[\s\S]*/, ''), /data channel/],
    [OFFER.replace(/a=ice-pwd:.*\r\n/, ''), /ICE credentials/],
    [OFFER.replace(/a=fingerprint:.*\r\n/, ''), /fingerprint/],
    [OFFER.replace('s=-', 'garbage'), /Malformed SDP line: "garbage"/],
  ])('refuses %#', (sdp, message) => {
    const result = checkOffer(sdp);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

describe('webrtcConfigSchema', () => {
  it('defaults to no STUN, loopback candidates and bounded timeouts', () => {
    const config = webrtcConfigSchema.parse({});
    expect(config.stun_servers).toEqual([]);
    expect(config.ice_host_addresses).toEqual(['127.0.0.1']);
    expect(config.connect_timeout_ms).toBeGreaterThan(0);
  });

  it('refuses half a port range and unknown keys', () => {
    expect(() => webrtcConfigSchema.parse({ ice_port_min: 40_000 })).toThrow();
    expect(() => webrtcConfigSchema.parse({ ice_port_min: 40_010, ice_port_max: 40_000 })).toThrow();
    expect(webrtcConfigSchema.parse({ ice_port_min: 40_000, ice_port_max: 40_100 }).ice_port_max).toBe(40_100);
    expect(() => webrtcConfigSchema.parse({ stun: [] })).toThrow();
  });
});
