import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';

let servers: RunningServer[] = [];
async function server(overrides: Parameters<typeof startTestServer>[0] = {}) {
  const s = await startTestServer(overrides);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function expectError(client: TestClient, send: () => void, code: string) {
  const from = client.events.length;
  send();
  const e = await client.waitFor((ev) => ev.type === 'error', 5000, from);
  expect((e.error as { code: string }).code).toBe(code);
  // The connection keeps working.
  await client.roundTrip();
}

describe('bad input gets an error event and the connection lives on', () => {
  it('answers each kind of bad input with its stable code', async () => {
    const s = await server();
    const c = await TestClient.connect(s.url);
    await expectError(c, () => c.sendRaw('{not json'), 'E_INVALID_JSON');
    await expectError(c, () => c.send({ type: 'no.such.event' }), 'E_UNKNOWN_EVENT');
    await expectError(c, () => c.send({ type: 'input_audio_buffer.append' }), 'E_INVALID_EVENT');
    await expectError(c, () => c.send({ type: 'input_audio_buffer.append', audio: 'ab$c' }), 'E_INVALID_BASE64');
    await expectError(
      c,
      () => c.send({ type: 'input_audio_buffer.append', audio: Buffer.from([1, 2, 3]).toString('base64') }),
      'E_ODD_PCM_BYTES',
    );
    await expectError(c, () => c.sendRaw(new Uint8Array([1, 2, 3])), 'E_ODD_PCM_BYTES');
    await expectError(
      c,
      () =>
        c.send({
          type: 'session.update',
          session: { audio: { input: { format: { type: 'audio/pcm', rate: 11025 } } } },
        }),
      'E_UNSUPPORTED_FORMAT',
    );
    await expectError(
      c,
      () => c.send({ type: 'session.update', session: { prompt: { id: 'pmpt_1' } } }),
      'E_UNSUPPORTED_FEATURE',
    );
    c.send({ type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcmu' } } } } });
    await c.roundTrip();
    await expectError(c, () => c.sendRaw(new Uint8Array(320)), 'E_BINARY_NOT_ALLOWED');
    await expectError(c, () => c.send({ type: 'input_audio_buffer.commit' }), 'E_BUFFER_EMPTY');
    // The client's event_id is echoed in the error.
    const from = c.events.length;
    c.send({ type: 'bogus', event_id: 'evt_client_1' });
    const e = await c.waitFor((ev) => ev.type === 'error', 5000, from);
    expect((e.error as { event_id: string }).event_id).toBe('evt_client_1');
    // Also for an append taken by the fast path (src/protocol/append_fast_path.ts), with the param.
    const fromAppend = c.events.length;
    c.sendRaw('{"event_id":"evt_client_2","type":"input_audio_buffer.append","audio":"ab$c"}');
    const appendError = (await c.waitFor((ev) => ev.type === 'error', 5000, fromAppend)).error as {
      code: string;
      event_id: string;
      param: string;
    };
    expect(appendError).toMatchObject({ code: 'E_INVALID_BASE64', event_id: 'evt_client_2', param: 'audio' });
    expect(c.closeCode).toBeNull();
    await c.close();
  });

  it('manual turn detection: commit makes an item of the buffered audio, clear drops it', async () => {
    const s = await server();
    const c = await TestClient.connect(s.url);
    c.send({
      type: 'session.update',
      session: { audio: { input: { format: { type: 'audio/pcm', rate: 16000 }, turn_detection: null } } },
    });
    await c.roundTrip();
    c.sendRaw(new Uint8Array(16000 * 2)); // 1 s of silence
    c.send({ type: 'input_audio_buffer.commit' });
    const committed = await c.waitFor((e) => e.type === 'input_audio_buffer.committed');
    expect(committed.previous_item_id).toBeNull();
    c.sendRaw(new Uint8Array(3200));
    c.send({ type: 'input_audio_buffer.clear' });
    await c.waitFor((e) => e.type === 'input_audio_buffer.cleared');
    await expectError(c, () => c.send({ type: 'input_audio_buffer.commit' }), 'E_BUFFER_EMPTY');
    expect(c.ofType('input_audio_buffer.speech_started')).toEqual([]);
    await c.close();
  });
});

describe('limits', () => {
  it('closes a connection whose message exceeds max_message_bytes with 1009, and others are unaffected', async () => {
    const s = await server({ server: { max_message_bytes: 64 * 1024 } });
    const good = await TestClient.connect(s.url);
    const bad = await TestClient.connect(s.url);
    bad.sendRaw(new Uint8Array(64 * 1024 + 2));
    expect(await bad.closed).toBe(1009);
    await good.roundTrip();
    expect(good.closeCode).toBeNull();
    await good.close();
  });

  it('refuses audio beyond max_pending_audio_ms with E_AUDIO_BACKLOG', async () => {
    const s = await server({ server: { max_pending_audio_ms: 1000 } });
    const c = await TestClient.connect(s.url);
    c.send({ type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } } });
    await c.roundTrip();
    await expectError(c, () => c.sendRaw(new Uint8Array(16000 * 2 * 2)), 'E_AUDIO_BACKLOG');
    await c.close();
  });

  it('terminates a peer that stops answering pings', async () => {
    const s = await server({ server: { heartbeat_interval_ms: 100 } });
    const deaf = await TestClient.connect(s.url, { autoPong: false });
    const alive = await TestClient.connect(s.url);
    const code = await deaf.closed;
    expect(code).toBe(1006); // terminated without a close frame
    await alive.roundTrip();
    expect(alive.closeCode).toBeNull();
    await alive.close();
  });

  it('refuses connections beyond max_connections with HTTP 503', async () => {
    const s = await server({ server: { max_connections: 1 } });
    const first = await TestClient.connect(s.url);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(s.url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(status).toBe(503);
    await first.close();
  });

  it('closes a client that does not read its events (1008) once max_outbound_buffered_bytes is queued', async () => {
    const s = await server({ server: { max_outbound_buffered_bytes: 64 * 1024 } });
    const slow = await TestClient.connect(s.url);
    const other = await TestClient.connect(s.url);
    const junk = '{'.repeat(100);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Each junk message is answered with an error event (~250 B). While the client does not read, those fill
    // the kernel's loopback buffers and then the server's own queue. The server must have processed enough of
    // them before the client reads again, which takes longer on a loaded machine: so, in bounded rounds, stop
    // reading, send, wait until the client's writes have left and the server had time, read again, check.
    let code: number | null = null;
    for (let round = 1; round <= 4 && code === null; round++) {
      slow.ws.pause();
      for (let i = 0; i < 60_000; i++) slow.sendRaw(junk);
      while (slow.ws.bufferedAmount > 0) await sleep(20);
      await sleep(1000 * round);
      slow.ws.resume();
      code = await Promise.race([slow.closed, sleep(3000).then(() => null)]);
    }
    expect(code).toBe(1008);
    await other.roundTrip();
    await other.close();
  });

  it('serves /healthz', async () => {
    const s = await server();
    const res = await fetch(`http://127.0.0.1:${s.address.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });
});
