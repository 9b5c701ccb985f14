import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/ws_client.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';
import { startWebRtcTestServer, type WebRtcTestServer } from '../../helpers/webrtc_server.ts';

// Signalling, the events channel, errors and cleanup of WebRTC calls, werift-to-werift on 127.0.0.1.

async function post(
  server: WebRtcTestServer,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/sdp' },
  path = '/v1/realtime/calls',
) {
  const response = await fetch(`${server.baseUrl}${path}`, { method: 'POST', headers, body });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
    json: () => JSON.parse(text) as { error: { code: string; message: string } },
  };
}

async function offerSdp(): Promise<string> {
  const { client, offerSdp } = await WebRtcTestClient.prepare();
  await client.close();
  return offerSdp;
}

describe('WebRTC calls: signalling and the events channel', () => {
  let server: WebRtcTestServer;
  beforeAll(async () => {
    server = await startWebRtcTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers an offer with 201, an SDP answer and a Location ending in the call id; queued and live events flow both ways', async () => {
    const client = await WebRtcTestClient.connect(server.baseUrl);
    try {
      expect(client.location).toMatch(/^\/v1\/realtime\/calls\/rtc_[0-9a-f]{32}$/);
      expect(server.route.activeCalls()).toBe(1);
      // session.created was sent at answer time, before the channel opened: it was queued, not lost.
      const created = client.ofType('session.created');
      expect(created).toHaveLength(1);
      expect((created[0].session as { type: string }).type).toBe('realtime');
      client.send({
        type: 'session.update',
        event_id: 'evt_1',
        session: { type: 'realtime', instructions: 'Be brief.' },
      });
      const updated = await client.waitFor((e) => e.type === 'session.updated');
      expect((updated.session as { instructions: string }).instructions).toBe('Be brief.');
      // Protocol errors come back on the channel exactly as on the WebSocket.
      client.send({ type: 'no.such.event' });
      const error = await client.waitFor((e) => e.type === 'error');
      expect((error.error as { code: string }).code).toBe('E_UNKNOWN_EVENT');
    } finally {
      await client.close();
    }
  });

  it('passes the query to the session (intent=transcription) and accepts an offer without candidates (agents-realtime style)', async () => {
    const client = await WebRtcTestClient.connect(server.baseUrl, {
      query: '?intent=transcription',
      candidateless: true,
    });
    try {
      expect((client.ofType('session.created')[0].session as { type: string }).type).toBe('transcription');
    } finally {
      await client.close();
    }
  });

  it('answers 415 for a wrong or missing content type', async () => {
    const sdp = await offerSdp();
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'text/plain' },
      {} as Record<string, string>,
    ]) {
      const response = await post(server, sdp, headers);
      expect(response.status).toBe(415);
      expect(response.contentType).toBe('application/json');
      expect(response.json().error.code).toBe('E_UNSUPPORTED_MEDIA_TYPE');
    }
    expect((await post(server, sdp, { 'content-type': 'Application/SDP; charset=utf-8' })).status).toBe(201);
  });

  it('answers 400 with a clear message for garbage and for offers that cannot carry events', async () => {
    const sdp = await offerSdp();
    const sessionsBefore = server.sessions.size;
    const noDataChannel = sdp
      .split(/\r\n(?=m=)/)
      .filter((section) => !section.startsWith('m=application'))
      .join('\r\n');
    const cases: [string, RegExp][] = [
      ['', /start with "v=0"/],
      ['hello, I am not SDP', /start with "v=0"/],
      ['v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', /no media sections/],
      [noDataChannel, /no data channel/],
      [sdp.replace(/a=fingerprint:[^\r\n]*\r\n/g, ''), /fingerprint/],
      ['v=0\r\n\u0000\u0001garbage', /Malformed SDP line/],
    ];
    for (const [body, message] of cases) {
      const response = await post(server, body);
      expect(response.status, body.slice(0, 30)).toBe(400);
      expect(response.json().error.code).toBe('E_SDP_INVALID');
      expect(response.json().error.message).toMatch(message);
    }
    expect(server.sessions.size).toBe(sessionsBefore); // a refused offer opens no session
  });

  it('answers 413 for an oversized offer, 405 for other methods, 404 for unknown call paths', async () => {
    expect((await post(server, 'v=0\r\n' + 'a=x\r\n'.repeat(20_000))).status).toBe(413);
    expect((await fetch(`${server.baseUrl}/v1/realtime/calls`)).status).toBe(405);
    expect((await fetch(`${server.baseUrl}/v1/realtime/calls/rtc_nope`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/v1/realtime/calls/rtc_nope/other`, { method: 'POST' })).status).toBe(404);
  });

  it('hangs up on DELETE /v1/realtime/calls/{id} and on POST .../hangup: the session is disposed', async () => {
    for (const hangUp of [
      (id: string) => fetch(`${server.baseUrl}/v1/realtime/calls/${id}`, { method: 'DELETE' }),
      (id: string) => fetch(`${server.baseUrl}/v1/realtime/calls/${id}/hangup`, { method: 'POST' }),
    ]) {
      const client = await WebRtcTestClient.connect(server.baseUrl);
      const response = await hangUp(client.callId);
      expect(response.status).toBe(200);
      await server.waitDisposed(client.callId);
      expect(server.route.getCall(client.callId)).toBeUndefined();
      await client.close();
    }
  });

  it('leaves the WebSocket path working alongside a call', async () => {
    const call = await WebRtcTestClient.connect(server.baseUrl);
    const ws = await TestClient.connect(server.wsUrl);
    try {
      expect(ws.ofType('session.created')).toHaveLength(1);
      await ws.roundTrip();
      await call.roundTrip();
      const health = (await (await fetch(`${server.baseUrl}/healthz`)).json()) as { status: string };
      expect(health.status).toBe('ok');
    } finally {
      await ws.close();
      await call.close();
    }
  });
});

describe('WebRTC calls: cleanup', () => {
  let cleanupServer: WebRtcTestServer;
  beforeAll(async () => {
    cleanupServer = await startWebRtcTestServer({ webrtc: { connect_timeout_ms: 1000, idle_timeout_ms: 500 } });
  });
  afterAll(async () => {
    await cleanupServer?.close();
  });

  it('cleans up a peer that never connects after connect_timeout_ms', async () => {
    const server = cleanupServer;
    const sdp = await offerSdp(); // this peer is closed: nobody will ever answer ICE checks
    const response = await fetch(`${server.baseUrl}/v1/realtime/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: sdp,
    });
    expect(response.status).toBe(201);
    const callId = response.headers.get('location')!.split('/').pop()!;
    const call = server.route.getCall(callId)!;
    expect(call).toBeDefined();
    await server.waitDisposed(callId);
    expect(call.endReason).toMatch(/^connect timeout/);
    expect(server.route.getCall(callId)).toBeUndefined();
  });

  it('cleans up a peer that hangs up (closes its channel) at once, and one that vanishes after idle_timeout_ms', async () => {
    const server = cleanupServer;
    const leaving = await WebRtcTestClient.connect(server.baseUrl);
    const leavingCall = server.route.getCall(leaving.callId)!;
    await leaving.close();
    await server.waitDisposed(leaving.callId);
    expect(leavingCall.endReason).toMatch(/events channel closed by the peer/);

    const vanishing = await WebRtcTestClient.connect(server.baseUrl);
    const vanishingCall = server.route.getCall(vanishing.callId)!;
    await vanishing.vanish();
    await server.waitDisposed(vanishing.callId);
    expect(vanishingCall.endReason).toMatch(/^idle/);
    expect(server.route.getCall(vanishing.callId)).toBeUndefined();
  });
});

describe('WebRTC calls: limits and auth', () => {
  it('answers 503 beyond max_calls and admits again once a call ends', async () => {
    const server = await startWebRtcTestServer({ webrtc: { max_calls: 1 } });
    try {
      const first = await WebRtcTestClient.connect(server.baseUrl);
      const refused = await post(server, await offerSdp());
      expect(refused.status).toBe(503);
      expect(refused.json().error.code).toBe('E_CAPACITY');
      await first.close();
      await server.waitDisposed(first.callId);
      const second = await WebRtcTestClient.connect(server.baseUrl);
      await second.close();
    } finally {
      await server.close();
    }
  });

  it('a slow offer upload gets 408 E_REQUEST_TIMEOUT at offer_read_timeout_ms and frees its call slot', async () => {
    const server = await startWebRtcTestServer({ webrtc: { max_calls: 1, offer_read_timeout_ms: 300 } });
    try {
      const { request } = await import('node:http');
      const started = Date.now();
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${server.baseUrl}/v1/realtime/calls`,
          { method: 'POST', headers: { 'content-type': 'application/sdp', 'content-length': '5000' } },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.write('v=0\r\n'); // and never the rest
      });
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body).error.code).toBe('E_REQUEST_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5000);
      // The only slot is free again: a real call is answered.
      const call = await WebRtcTestClient.connect(server.baseUrl);
      await call.close();
    } finally {
      await server.close();
    }
  });

  it('answers 401 when authorize refuses, before reading the offer', async () => {
    const server = await startWebRtcTestServer({ authorize: (req) => req.headers.authorization === 'Bearer sesame' });
    try {
      const refused = await post(server, await offerSdp());
      expect(refused.status).toBe(401);
      expect(refused.json().error.code).toBe('E_UNAUTHORIZED');
      expect(server.sessions.size).toBe(0);
      const client = await WebRtcTestClient.connect(server.baseUrl, { headers: { authorization: 'Bearer sesame' } });
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('hangs up every call when the route closes', async () => {
    const server = await startWebRtcTestServer();
    const clients = await Promise.all([
      WebRtcTestClient.connect(server.baseUrl),
      WebRtcTestClient.connect(server.baseUrl),
    ]);
    await server.close();
    expect(server.route.activeCalls()).toBe(0);
    expect([...server.sessions.values()].every((s) => s.disposed)).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
  });
});
