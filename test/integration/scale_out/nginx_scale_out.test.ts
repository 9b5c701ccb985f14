import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import type { RunningServer } from '../../../src/main.ts';
import { TranscriptStore } from '../../../src/store/transcript_store.ts';
import { spawnServer, type ServerProcess } from '../server/server_process.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../agent/agent_server.ts';
import { startNginx, type RunningNginx } from './nginx.ts';

// docs/scaling.md run small: a real nginx in front of two Earshot frontends (separate processes, each
// with its own transcript store) that share one engine server (an Earshot on the tiny model, reached
// with --engine-url). One frontend gets SIGTERM: its sessions close with 1001 and what they committed
// is in its store; the other frontend's sessions carry on.

const SESSIONS = 4;
let engineHost: EngineHost;
let engineServer: RunningServer;
const frontends: ServerProcess[] = [];
let nginx: RunningNginx;
const dir = mkdtempSync(join(tmpdir(), 'earshot-scale-out-'));
const storeOf = (i: number) => join(dir, `frontend-${i}.sqlite`);

beforeAll(async () => {
  engineHost = createEngineHost({
    modelDir: await ensureFixtureModel('tiny'),
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  await engineHost.ready;
  engineServer = await startTestServer({ agent: { caption_max_tokens: 6 } }, { engine: engineHost });
  for (const i of [0, 1]) {
    frontends.push(
      await spawnServer(['--store', storeOf(i), '--engine-url', engineServer.httpUrl], {
        dataDir: mkdtempSync(join(dir, `data-${i}-`)),
        // The VAD lag guard stays on: each clip is sent at once, faster than real time, and lag is measured
        // on each stream's own audio clock, so an upload burst is not lag. The event-loop guard is off as in
        // the in-process test servers (a loaded CI machine delays every loop).
        env: {
          EARSHOT_AGENT_CAPTION_MAX_TOKENS: '6',
          EARSHOT_SERVER_SHUTDOWN_GRACE_MS: '2000',
          EARSHOT_LIMITS_MAX_EVENT_LOOP_DELAY_MS: '0',
        },
      }),
    );
  }
  nginx = await startNginx(
    dir,
    frontends.map((f) => new URL(f.httpUrl).host),
  );
}, 300_000);

afterAll(async () => {
  await nginx?.stop();
  for (const f of frontends) if (f.child.exitCode === null) f.child.kill('SIGTERM');
  await Promise.all(frontends.map((f) => f.exited));
  await engineServer?.close();
  await engineHost?.close();
});

async function sessionIdsOn(frontend: ServerProcess): Promise<Set<string>> {
  const res = await fetch(`${frontend.httpUrl}/v1/sessions?limit=100`);
  const body = (await res.json()) as { data: { id: string }[] };
  return new Set(body.data.map((s) => s.id));
}

async function speakAndWait(c: TestClient, clip: string): Promise<void> {
  const before = c.ofType('response.done').length;
  streamPcm16k(c, placeWithGaps({ clips: [clip], gapsMs: [500, 1200] }).samples16k);
  await c.waitFor((e) => e.type === 'response.done' && c.ofType('response.done').length > before, 90_000);
}

describe('scale-out: nginx -> two frontends -> one engine server', () => {
  it('sessions spread over both frontends; SIGTERM on one closes its sessions with 1001 after persisting them, the other is untouched', async () => {
    const url = `ws://127.0.0.1:${nginx.port}/v1/realtime`;
    const clients: { c: TestClient; id: string }[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const c = await TestClient.connect(url);
      const created = await c.waitFor((e) => e.type === 'session.created', 10_000);
      await use16kBinary(c, { max_output_tokens: 4 });
      clients.push({ c, id: (created.session as { id: string }).id });
    }
    await Promise.all(clients.map(({ c }, i) => speakAndWait(c, CARD_CLIPS[i % CARD_CLIPS.length])));
    for (const { c } of clients) {
      expect(c.ofType('error')).toEqual([]);
      expect(c.ofType('conversation.item.input_audio_transcription.completed')).toHaveLength(1);
    }
    const on = await Promise.all(frontends.map(sessionIdsOn));
    const stopped = clients.filter(({ id }) => on[0].has(id));
    const kept = clients.filter(({ id }) => on[1].has(id));
    expect(stopped.length + kept.length).toBe(SESSIONS);
    expect(stopped.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);

    frontends[0].child.kill('SIGTERM');
    expect(await frontends[0].exited).toEqual({ code: 0, signal: null });
    for (const { c } of stopped) expect(await c.closed).toBe(1001);
    const store = TranscriptStore.open({ path: storeOf(0) });
    try {
      for (const { c, id } of stopped) {
        expect(store.getSession(id)?.endReason).toBe('shutdown');
        const utterances = store.getUtterances(id);
        expect(utterances).toHaveLength(1);
        expect(utterances[0].transcript?.length).toBeGreaterThan(0);
        // The stored response is the one the client was told about (4 tokens: usually cut, 'incomplete').
        const told = c.ofType('response.done').map((e) => (e.response as { status: string }).status);
        expect(store.getSessionDetail(id)?.responses.map((r) => r.status)).toEqual(told);
        expect(told[0]).toMatch(/^(completed|incomplete)$/);
      }
    } finally {
      store.close();
    }

    // The other frontend's sessions never noticed: still open, and answering.
    for (const { c } of kept) expect(c.closeCode).toBeNull();
    await Promise.all(kept.map(({ c }) => speakAndWait(c, CARD_CLIPS[4])));
    for (const { c } of kept) {
      expect(c.ofType('error')).toEqual([]);
      expect(c.ofType('conversation.item.input_audio_transcription.completed')).toHaveLength(2);
    }
    // New sessions through nginx land on the surviving frontend.
    const late = await TestClient.connect(url);
    const created = await late.waitFor((e) => e.type === 'session.created', 10_000);
    expect((await sessionIdsOn(frontends[1])).has((created.session as { id: string }).id)).toBe(true);
    await late.close();
    await Promise.all(kept.map(({ c }) => c.close()));
  }, 240_000);
});
