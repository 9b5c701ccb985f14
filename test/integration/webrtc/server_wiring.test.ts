import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';

// The real server (startServer) mounts the WebRTC calls route, the browser client at `/`, and
// WebSocket sidebands on a call (?call_id=).

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('earshot serve composition', () => {
  it('answers WebRTC calls, and a ?call_id= WebSocket shares the call session', async () => {
    const call = await WebRtcTestClient.connect(server.httpUrl);
    try {
      expect(call.ofType('session.created')).toHaveLength(1);
      const callId = call.location.split('/').pop()!;
      // The sideband has no session of its own: a session.update sent on it updates the call's session.
      const ws = await TestClient.connectRaw(`${server.url}?call_id=${callId}`);
      ws.send({ type: 'session.update', session: { type: 'realtime', instructions: 'From the sideband.' } });
      const updated = await call.waitFor((e) => e.type === 'session.updated');
      expect((updated.session as { instructions: string }).instructions).toBe('From the sideband.');
      await ws.waitFor((e) => e.type === 'session.updated');
      await ws.close();
    } finally {
      await call.close();
    }
  });

  it('refuses a sideband for an unknown call', async () => {
    const ws = await TestClient.connectRaw(`${server.url}?call_id=rtc_unknown`);
    expect(await ws.closed).toBe(1008);
  });

  it('serves the browser client at /', async () => {
    const res = await fetch(`${server.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-testid="connect"');
  });
});
