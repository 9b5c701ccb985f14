import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/errors.ts';
import { MAX_MEDIA_SECTIONS } from '../../../src/transport/webrtc/sdp_offer.ts';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';
import { holdsWithin } from '../../helpers/wait_for.ts';

// Fuzzing the SDP offer boundary of the real server (POST /v1/realtime/calls): every answer is a
// well-formed refusal (4xx, OpenAI-style JSON error with a stable code) or a legitimate 201 with an SDP
// answer; never a 500, a hang or a crash; no session or peer connection outlives the request; a normal call
// still works afterwards.
//
// No traffic leaves 127.0.0.1: the base offer carries no ICE candidates (agents-realtime style), generated
// candidates are loopback and never truncated or corrupted (werift does not validate a candidate's address:
// "127." would become a DNS lookup), the server gathers only 127.0.0.1 and has no STUN server. A `.local`
// candidate would make werift send mDNS queries to the LAN, so none is ever generated.

const CALLS = '/v1/realtime/calls';
const MAX_OFFER_BYTES = 64 * 1024; // the default webrtc.max_offer_bytes, fuzzed as configured out of the box
const ANSWER_TIMEOUT_MS = 10_000; // longer than any negotiation on loopback: past it the request hung
const SEED = 20261126;

let server: RunningServer;
let port: number;
/** The lines of a real werift offer (audio + data channel) without candidates. */
let baseLines: string[];
let udpBaseline: number;
/** Status codes and error codes seen, to show the properties reached real answers of every kind. */
const seen = new Map<string, number>();

const udpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

beforeAll(async () => {
  server = await startTestServer({ webrtc: { ice_gather_interfaces: false } }, { engine: null });
  port = server.address.port;
  const { client, offerSdp } = await WebRtcTestClient.prepare();
  await client.close();
  baseLines = offerSdp
    .split('\r\n')
    .filter((line) => line !== '' && !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates');
  await holdsWithin(() => udpSockets() === 0, 5000); // the preparing client's sockets close asynchronously
  udpBaseline = udpSockets();
});
afterAll(async () => server?.close());

interface Answer {
  status: number;
  contentType: string;
  location: string | undefined;
  body: string;
}

/**
 * POSTs raw bytes over a fresh connection. `chunked` omits Content-Length, so the size limit must be
 * enforced while reading. Fails (the property then fails) if no answer arrives in ANSWER_TIMEOUT_MS.
 */
function post(body: Buffer, headers: Record<string, string>, { chunked = false } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: CALLS,
      agent: false,
      headers: chunked ? headers : { ...headers, 'content-length': body.length },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy(); // stop uploading the rest of a refused body
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          location: res.headers.location,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    // Writing the rest of a body the server already refused may fail (EPIPE, ECONNRESET): the answer is
    // what counts, and a connection that closes without one fails below.
    req.on('error', () => {});
    req.on('close', () => {
      if (answered) return;
      clearTimeout(timer);
      reject(new Error('connection closed without an answer'));
    });
    if (chunked) {
      // Several writes, so the server sees the body arrive in pieces as from a real client.
      for (let offset = 0; offset < body.length; offset += 16 * 1024)
        req.write(body.subarray(offset, offset + 16 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

const SDP = { 'content-type': 'application/sdp' };

/** The property itself: a refusal with a stable code, or a real call, which is hung up at once. */
async function expectWellFormed(answer: Answer, label: string): Promise<void> {
  const what = `${label}: ${answer.status} ${answer.body.slice(0, 300)}`;
  if (answer.status === 201) {
    seen.set('201', (seen.get('201') ?? 0) + 1);
    expect(answer.contentType, what).toBe('application/sdp');
    expect(answer.body.startsWith('v=0\r\n'), what).toBe(true);
    expect(answer.location, what).toMatch(/^\/v1\/realtime\/calls\/rtc_[0-9a-f]{32}$/);
    const hangUp = await fetch(`${server.httpUrl}${answer.location}`, { method: 'DELETE' });
    expect(hangUp.status, what).toBe(200);
    return;
  }
  // 503 would mean max_calls was reached: with every call hung up at once, that is a leaked slot.
  expect([400, 413, 415], what).toContain(answer.status);
  expect(answer.contentType, what).toBe('application/json');
  const { error } = JSON.parse(answer.body) as { error: { type: string; code: string; message: string; param: null } };
  expect(error.type, what).toBe('invalid_request_error');
  expect(Object.keys(ERROR_CODES), what).toContain(error.code);
  expect(
    { 400: 'E_SDP_INVALID', 413: 'E_PAYLOAD_TOO_LARGE', 415: 'E_UNSUPPORTED_MEDIA_TYPE' }[answer.status],
    what,
  ).toBe(error.code);
  expect(error.message.length, what).toBeGreaterThan(0);
  expect(error.message.length, what).toBeLessThan(1000); // a refusal never echoes a huge offer back
  expect(error.param, what).toBeNull();
  // werift's runtime errors on inconsistent offers are not echoed to the client (calls_route.ts).
  expect(error.message, what).not.toMatch(
    /TypeError|RangeError|Cannot read properties|is not a function|is not iterable|undefined/,
  );
  seen.set(`${answer.status} ${error.code}`, (seen.get(`${answer.status} ${error.code}`) ?? 0) + 1);
}

const sessionsActive = async () => (await server.metrics.sessionsActive.get()).values[0]?.value ?? 0;

/** Nothing outlives the fuzzed requests, and a normal call still works. */
async function expectCleanServer(): Promise<void> {
  expect(await holdsWithin(() => server.sessions.size === 0, 5000), `${server.sessions.size} sessions still open`).toBe(
    true,
  );
  expect(await sessionsActive()).toBe(0);
  // werift releases a closed peer connection's sockets asynchronously.
  expect(
    await holdsWithin(() => udpSockets() <= udpBaseline, 5000),
    `${udpSockets() - udpBaseline} UDP sockets leaked`,
  ).toBe(true);
  // Events only: with an audio track too, werift's *client* leaves open the socket of the transport that
  // BUNDLE makes redundant, which would be counted here as a server leak (calls.test.ts covers audio).
  const call = await WebRtcTestClient.connect(server.httpUrl, { audio: false });
  try {
    await call.roundTrip();
    expect(server.sessions.size).toBe(1);
  } finally {
    await call.close();
  }
  expect(await holdsWithin(() => server.sessions.size === 0 && udpSockets() <= udpBaseline, 5000)).toBe(true);
}

const crlf = (lines: Buffer[]) => Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\r\n')]));

// Lines a hostile or broken client could put in an offer, grouped by what they break.
const NASTY_LINES: (string | Buffer)[] = [
  // media sections without usable audio or data channel
  'm=audio 9 UDP/TLS/RTP/SAVPF 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=rtpmap:111 ISAC/16000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'm=audio 9 RTP/AVP 96',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'm=application 9 DTLS/SCTP 5000',
  'm=',
  'm=audio',
  'm=text 9 RTP/AVP 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF',
  // ports and payload types out of range
  'm=audio 99999999999999999999 UDP/TLS/RTP/SAVPF 96',
  'm=audio -1 UDP/TLS/RTP/SAVPF 96',
  'm=application 65536 UDP/DTLS/SCTP webrtc-datachannel',
  'm=audio 9/65535 UDP/TLS/RTP/SAVPF 96',
  'm=audio 9 UDP/TLS/RTP/SAVPF 128 255 999999 -5 abc 1e309',
  'a=rtpmap:4294967296 opus/48000/2',
  'a=rtpmap:-1 opus/48000/2',
  'a=rtpmap:96 opus/0/0',
  'a=rtpmap:96 opus/99999999999999999999/2',
  'a=rtpmap:96',
  'a=rtpmap:abc opus/48000/2',
  'a=rtpmap:96 opus/48000/-2',
  'a=fmtp:96 minptime=-10;useinbandfec=1e999;stereo',
  'a=fmtp:',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:* ccm fir',
  'a=ptime:0',
  'a=maxptime:-1',
  // ICE credentials and DTLS fingerprints: empty, huge, duplicated with other values, broken
  'a=ice-ufrag:',
  'a=ice-pwd:',
  `a=ice-ufrag:${'u'.repeat(5000)}`,
  'a=ice-ufrag:other',
  'a=ice-pwd:0123456789abcdefghijkl',
  'a=ice-pwd:x',
  'a=fingerprint:',
  'a=fingerprint:sha-256 ',
  'a=fingerprint:md5 00',
  `a=fingerprint:sha-256 ${'ZZ:'.repeat(31)}ZZ`,
  'a=fingerprint:sha-999 AA',
  `a=fingerprint:sha-512 ${'AB:'.repeat(2000)}AB`,
  'a=ice-options:ice2,trickle,renomination',
  'a=ice-lite',
  // DTLS roles, mids, bundles, SCTP parameters
  'a=setup:passive',
  'a=setup:active',
  'a=setup:holdconn',
  'a=setup:bogus',
  'a=mid:',
  'a=mid:0',
  'a=mid:1',
  `a=mid:${'m'.repeat(300)}`,
  'a=group:BUNDLE 0 1 2 3 99',
  'a=group:BUNDLE',
  'a=group:LS 0 1',
  'a=sctp-port:0',
  'a=sctp-port:99999999',
  'a=sctp-port:-1',
  'a=max-message-size:-1',
  'a=max-message-size:1e400',
  'a=max-message-size:0',
  'a=sctpmap:5000 webrtc-datachannel 1024',
  // connection, origin, timing, bandwidth
  'c=IN IP4 ',
  'c=IN IP6 zz',
  'c=IN IP4 127.0.0.1/999/999',
  'o=',
  'o=- 99999999999999999999999 -1 IN IP4 0.0.0.0',
  't=abc',
  's=',
  'b=AS:-1',
  'b=TIAS:99999999999999999999',
  'a=rtcp:0',
  'a=rtcp:70000 IN IP4 127.0.0.1',
  'a=rtcp-mux-only',
  'a=rtcp-rsize',
  // SSRCs, extensions, simulcast
  'a=ssrc:99999999999 cname:x',
  'a=ssrc:-1 cname:x',
  'a=ssrc:1',
  'a=ssrc-group:FID 1 2 3',
  'a=ssrc-group:FID',
  'a=extmap:999999 urn:x',
  'a=extmap:1/sendonly',
  'a=extmap-allow-mixed',
  'a=msid:- x',
  'a=msid:',
  'a=simulcast:send 1;2',
  'a=rid:1 send',
  'a=rid:',
  // directions
  'a=sendrecv',
  'a=inactive',
  'a=recvonly',
  'a=sendonly',
  // candidates: loopback only (see the top of the file)
  'a=candidate:1 1 udp 2116026367 127.0.0.1 9 typ host',
  'a=candidate:1 1 tcp 1 127.0.0.1 0 typ host tcptype passive',
  'a=candidate:garbage',
  'a=candidate:1 1 udp -5 127.0.0.1 99999 typ host',
  'a=candidate:',
  'a=end-of-candidates',
  'a=candidate:1 2 udp 1 127.0.0.1 9 typ relay raddr 127.0.0.1 rport 0',
  // NUL bytes, control characters, invalid UTF-8, very long lines
  'a=\u0000\u0000\u0000',
  'a=ice-ufrag:ab\u0000cd',
  'v=0\u0000',
  'a=mid:\u0001\u0002',
  '\u0000',
  'a=\r',
  ' a=x',
  'A=x',
  'x',
  '=',
  'a=',
  'v=1',
  'v=0',
  Buffer.from([0x61, 0x3d, 0xff, 0xfe, 0xc3, 0x28]),
  Buffer.from([0x61, 0x3d, 0xed, 0xa0, 0x80]),
  Buffer.from([0xef, 0xbb, 0xbf, 0x76, 0x3d, 0x30]),
  `a=x${'y'.repeat(1000)}`,
  `a=x${'y'.repeat(30_000)}`,
  `a=fmtp:96 ${'k=v;'.repeat(5000)}`,
  `m=audio 9 UDP/TLS/RTP/SAVPF ${'96 '.repeat(3000)}96`,
];

const nastyLine = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_LINES).map((line) => Buffer.from(line)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('a=', 'm=', 'c=', 'o=', 'b=', 'a=rtpmap:', 'a=fingerprint:sha-256 ', 'a=ice-ufrag:', 'a=mid:'),
        fc.uint8Array({ maxLength: 60 }),
      )
      .map(([prefix, bytes]) => Buffer.concat([Buffer.from(prefix), bytes])),
  },
);

type Mutation =
  | { kind: 'delete' | 'duplicate' | 'truncate'; at: number; at2: number }
  | { kind: 'swap'; at: number; at2: number }
  | { kind: 'replace' | 'insert'; at: number; line: Buffer }
  | { kind: 'corrupt'; at: number; at2: number; byte: number }
  | { kind: 'drop-section' | 'repeat-section'; at: number; at2: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('delete', 'duplicate', 'truncate', 'swap', 'drop-section', 'repeat-section'),
    at: fc.nat(),
    at2: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constantFrom('replace', 'insert'), at: fc.nat(), line: nastyLine }) as fc.Arbitrary<Mutation>,
  fc.record({
    kind: fc.constant('corrupt'),
    at: fc.nat(),
    at2: fc.nat(),
    byte: fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x3a, 0x3d, 0x7f, 0x80, 0xc3, 0xff),
  }) as fc.Arbitrary<Mutation>,
);

/** Media sections of an offer as [start, end) line ranges. */
function sections(lines: Buffer[]): [number, number][] {
  const starts = lines.flatMap((line, i) => (line.subarray(0, 2).toString('latin1') === 'm=' ? [i] : []));
  return starts.map((start, i) => [start, starts[i + 1] ?? lines.length]);
}

function mutate(lines: Buffer[], m: Mutation): Buffer[] {
  const out = [...lines];
  if (out.length === 0) return m.kind === 'insert' || m.kind === 'replace' ? [m.line] : out;
  const i = m.at % out.length;
  const candidate = out[i].subarray(0, 12).toString('latin1') === 'a=candidate:'; // see the top of the file
  switch (m.kind) {
    case 'delete':
      out.splice(i, 1);
      break;
    case 'duplicate':
      out.splice(m.at2 % (out.length + 1), 0, out[i]);
      break;
    case 'truncate':
      if (!candidate) out[i] = out[i].subarray(0, m.at2 % (out[i].length + 1));
      break;
    case 'swap': {
      const j = m.at2 % out.length;
      [out[i], out[j]] = [out[j], out[i]];
      break;
    }
    case 'replace':
      out[i] = m.line;
      break;
    case 'insert':
      out.splice(m.at % (out.length + 1), 0, m.line);
      break;
    case 'corrupt': {
      const line = Buffer.from(out[i]);
      if (line.length > 0 && !candidate) line[m.at2 % line.length] = m.byte;
      out[i] = line;
      break;
    }
    case 'drop-section':
    case 'repeat-section': {
      const all = sections(out);
      if (all.length === 0) break;
      const [start, end] = all[m.at % all.length];
      // Up to 40 copies, past MAX_MEDIA_SECTIONS: unbundled, each section would cost the server an ICE transport.
      if (m.kind === 'drop-section') out.splice(start, end - start);
      else out.splice(end, 0, ...Array.from({ length: 1 + (m.at2 % 40) }, () => out.slice(start, end)).flat());
      break;
    }
  }
  return out;
}

const base = () => baseLines.map((line) => Buffer.from(line));

describe('fuzzing SDP offers on POST /v1/realtime/calls', () => {
  it('random bytes, random SDP-looking lines and truncated offers: refused (or, truncated harmlessly, a call)', async () => {
    const sdpLine = fc
      .tuple(fc.constantFrom(...'vosctmabiukezr'), fc.string({ unit: 'binary', maxLength: 80 }))
      .map(([t, rest]) => `${t}=${rest}`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ label: 'random bytes', body: Buffer.from(bytes) })),
          fc
            .uint8Array({ maxLength: 2048 })
            .map((bytes) => ({ label: 'v=0 + random bytes', body: Buffer.concat([Buffer.from('v=0\r\n'), bytes]) })),
          fc
            .array(sdpLine, { maxLength: 40 })
            .map((lines) => ({ label: 'random lines', body: Buffer.from(['v=0', ...lines].join('\r\n')) })),
          fc.nat().map((at) => {
            const whole = crlf(base());
            return { label: `truncated at ${at % whole.length}`, body: whole.subarray(0, at % whole.length) };
          }),
        ),
        async ({ label, body }) => expectWellFormed(await post(body, SDP), label),
      ),
      { numRuns: 300, seed: SEED },
    );
    await expectCleanServer();
  }, 60_000);

  it('valid offers with mutated lines and sections: a refusal or a real call, nothing left behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('\r\n', '\n', '\r\n\r\n'),
        async (mutations, eol) => {
          const lines = mutations.reduce(mutate, base());
          const body = Buffer.concat(lines.flatMap((line) => [line, Buffer.from(eol)]));
          await expectWellFormed(
            await post(body, SDP),
            JSON.stringify(mutations, (k, v: unknown) =>
              k === 'line'
                ? Buffer.from((v as { data: number[] }).data)
                    .toString('latin1')
                    .slice(0, 80)
                : v,
            ),
          );
        },
      ),
      { numRuns: 400, seed: SEED + 1 },
    );
    await expectCleanServer();
    // Both outcomes were exercised, not only refusals.
    expect(seen.get('201') ?? 0).toBeGreaterThan(20);
    expect(seen.get('400 E_SDP_INVALID') ?? 0).toBeGreaterThan(20);
  }, 120_000);

  it('bodies past max_offer_bytes are refused with 413, with or without Content-Length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 * MAX_OFFER_BYTES }),
        fc.boolean(),
        fc.constantFrom('lines', 'one line', 'zeros'),
        async (extra, chunked, filler) => {
          const head = crlf(base());
          const size = MAX_OFFER_BYTES + extra;
          const pad =
            filler === 'zeros'
              ? Buffer.alloc(size - head.length)
              : Buffer.from(
                  (filler === 'lines' ? 'a=x\r\n' : 'a=y').padEnd(
                    size - head.length,
                    filler === 'lines' ? 'a=x\r\n' : 'y',
                  ),
                );
          await expectWellFormed(
            await post(Buffer.concat([head, pad]), SDP, { chunked }),
            `${size} bytes, ${filler}, ${chunked ? 'chunked' : 'content-length'}`,
          );
        },
      ),
      { numRuns: 60, seed: SEED + 2 },
    );
    expect(seen.get('413 E_PAYLOAD_TOO_LARGE')).toBeGreaterThanOrEqual(60);
    // At the limit exactly, the offer is read and negotiated.
    const head = crlf(base());
    const atLimit = Buffer.concat([head, Buffer.from('a=x'.padEnd(MAX_OFFER_BYTES - head.length - 2, 'x') + '\r\n')]);
    expect(atLimit.length).toBe(MAX_OFFER_BYTES);
    const answer = await post(atLimit, SDP, { chunked: true });
    expect(answer.status).toBe(201);
    await expectWellFormed(answer, 'at the limit');
    await expectCleanServer();
  }, 60_000);

  it('any Content-Type other than application/sdp (parameters and case aside) is refused with 415', async () => {
    const mediaType = fc.oneof(
      fc.constantFrom(
        '',
        'application/json',
        'text/plain',
        'application/sdp2',
        'application/sdpx',
        'application/x-sdp',
        'text/sdp',
        'application/*',
        '*/*',
        'application/sdp, application/json',
        'application',
        '/',
        ';application/sdp',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
      ),
      fc.stringMatching(/^[\x20-\x7e]{0,100}$/),
      fc.constantFrom(
        'application/sdp',
        'APPLICATION/SDP',
        ' Application/Sdp ',
        'application/sdp;',
        'application/sdp; charset=utf-8',
        'application/sdp;;;x="y;z"',
      ),
    );
    await fc.assert(
      fc.asyncProperty(mediaType, async (contentType) => {
        const answer = await post(crlf(base()), contentType === '' ? {} : { 'content-type': contentType });
        await expectWellFormed(answer, `Content-Type ${JSON.stringify(contentType)}`);
        const accepted = contentType.split(';')[0].trim().toLowerCase() === 'application/sdp';
        expect(answer.status, contentType).toBe(accepted ? 201 : 415);
      }),
      { numRuns: 150, seed: SEED + 3 },
    );
    await expectCleanServer();
  }, 60_000);

  it('multipart form bodies (sdp + session parts) with a broken part are refused', async () => {
    // OpenAI's unified interface also takes multipart/form-data with `sdp` and `session` fields; Earshot
    // takes application/sdp only (docs/protocol.md), so these must be a clean 415, and still a
    // 4xx should multipart ever be accepted, since a part is always broken here.
    const sdpPart = fc.oneof(
      fc.nat().map((at) => crlf(base()).subarray(0, at % 1500)),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.constant(Buffer.from([0xff, 0xfe, 0x00])),
      fc.constant(null), // missing part
    );
    const sessionPart = fc.oneof(
      fc.constantFrom(
        '{',
        '{"type":"realtime"',
        'null',
        '[]',
        '{"type":1}',
        '{"type":"realtime","instructions":' + '"x'.repeat(100) + '}',
        '\u0000',
      ),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(
        sdpPart,
        sessionPart,
        fc.constantFrom('xYz', '----WebKitFormBoundary7MA4YWxkTrZu0gW', ''),
        fc.boolean(),
        async (sdp, session, boundary, closed) => {
          const parts: Buffer[] = [];
          if (sdp)
            parts.push(
              Buffer.from(
                `--${boundary}\r\nContent-Disposition: form-data; name="sdp"\r\nContent-Type: application/sdp\r\n\r\n`,
              ),
              sdp,
              Buffer.from('\r\n'),
            );
          if (session !== null)
            parts.push(
              Buffer.from(
                `--${boundary}\r\nContent-Disposition: form-data; name="session"\r\nContent-Type: application/json\r\n\r\n${session}\r\n`,
              ),
            );
          if (closed) parts.push(Buffer.from(`--${boundary}--\r\n`));
          const answer = await post(Buffer.concat(parts), {
            'content-type': `multipart/form-data; boundary=${boundary}`,
          });
          await expectWellFormed(answer, `multipart sdp=${sdp?.length ?? 'none'} session=${session}`);
          expect(answer.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 100, seed: SEED + 4 },
    );
    await expectCleanServer();
  }, 60_000);
  it(`an offer of more than ${MAX_MEDIA_SECTIONS} media sections is refused; an unbundled one within the cap leaves no socket behind`, async () => {
    // Unbundled, every section costs an ICE transport and its socket: the cap bounds what one call holds.
    const lines = base().filter((line) => !line.toString('latin1').startsWith('a=group:'));
    const [[audioStart, audioEnd]] = sections(lines);
    const audio = lines.slice(audioStart, audioEnd);
    const offer = (audioSections: number) => {
      const copies = Array.from({ length: audioSections }, (_, i) =>
        audio.map((line) => (line.toString('latin1').startsWith('a=mid:') ? Buffer.from(`a=mid:a${i}`) : line)),
      );
      return crlf([...lines.slice(0, audioStart), ...copies.flat(), ...lines.slice(audioEnd)]);
    };
    const refused = await post(offer(MAX_MEDIA_SECTIONS), SDP);
    await expectWellFormed(refused, 'too many sections');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(/media sections; at most/);
    const accepted = await post(offer(MAX_MEDIA_SECTIONS - 1), SDP);
    expect(accepted.status, accepted.body).toBe(201);
    await expectWellFormed(accepted, 'sections at the cap');
    await expectCleanServer();
  }, 30_000);

  it('uploads the client abandons at any point release their max_calls slot', async () => {
    // More aborted uploads than max_calls (32 by default): a slot kept by any of them would make the final
    // call a 503.
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1500 }), fc.boolean(), async (sent, chunked) => {
        const whole = crlf(base());
        const head = `POST ${CALLS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sdp\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${whole.length}`}\r\n\r\n`;
        const part = whole.subarray(0, Math.min(sent, whole.length - 1));
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(
          Buffer.concat([
            Buffer.from(head),
            chunked && part.length > 0 ? Buffer.from(`${part.length.toString(16)}\r\n`) : Buffer.alloc(0),
            part,
          ]),
        );
        await new Promise((resolve) => setTimeout(resolve, 5)); // let the server start reading the body
        socket.destroy();
      }),
      { numRuns: 40, seed: SEED + 5 },
    );
    await expectCleanServer();
  }, 30_000);
});
