import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/ws_client.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';
import { startWebRtcTestServer, type WebRtcTestServer } from '../../helpers/webrtc_server.ts';

describe('WebRTC calls: signalling and the events channel', () => {
  let server: WebRtcTestServer;
  beforeAll(async () => {
    server = await startWebRtcTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers an offer with 201, an SDP answer and a Location ending in the call id; events flow both ways', async () => {
    const client = await WebRtcTestClient.connect(server.baseUrl);
    try {
      expect(client.location).toMatch(/^\/v1\/realtime\/calls\/rtc_[0-9a-f]{32}$/);
      expect(server.route.activeCalls()).toBe(1);
      const created = client.ofType('session.created')[0];
      expect((created.session as { type: string }).type).toBe('realtime');
      client.send({ type: 'session.update', event_id: 'evt_1', session: { type: 'realtime', instructions: 'Be brief.' } });
      const updated = await client.waitFor((e) => e.type === 'session.updated');
      expect((updated.session as { instructions: string }).instructions).toBe('Be brief.');
      console.log('connectMs', client.connectMs, server.route.getCall(client.callId)?.timings);
    } finally {
      await client.close();
    }
  });
});
