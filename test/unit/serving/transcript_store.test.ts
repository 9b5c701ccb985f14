import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EarshotError } from '../../../src/errors.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../../src/store/migrations.ts';
import { DAY_MS, startRetention } from '../../../src/store/retention.ts';
import { defaultStorePath, resolveStorePath, TranscriptStore } from '../../../src/store/transcript_store.ts';

let dir: string;
let path: string;
const open: TranscriptStore[] = [];
function openStore(extra: Partial<Parameters<typeof TranscriptStore.open>[0]> = {}): TranscriptStore {
  const store = TranscriptStore.open({ path, ...extra });
  open.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-store-'));
  path = join(dir, 'nested', 'earshot.sqlite');
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function fillSession(store: TranscriptStore, id: string, createdAtMs: number, keyId = 'key_a') {
  expect(store.startSession({ id, keyId, type: 'realtime', model: 'phi-4-multimodal', createdAtMs })).toBe(true);
  expect(
    store.commitUtterance({
      sessionId: id,
      itemId: `${id}_u1`,
      startMs: 320,
      endMs: 2110,
      endReason: 'silence',
      committedAtMs: createdAtMs + 2600,
    }),
  ).toBe(true);
  expect(store.setUtteranceText(`${id}_u1`, { transcript: 'what is the weather in Lyon' })).toBe(true);
  expect(
    store.commitUtterance({
      sessionId: id,
      itemId: `${id}_u2`,
      startMs: 4000,
      endMs: 5000,
      committedAtMs: createdAtMs + 5600,
      transcript: 'thanks',
      translation: 'merci',
      language: 'en',
    }),
  ).toBe(true);
  expect(
    store.recordResponse({
      id: `${id}_r1`,
      sessionId: id,
      inputItemId: `${id}_u1`,
      status: 'in_progress',
      createdAtMs: createdAtMs + 2700,
    }),
  ).toBe(true);
  expect(
    store.recordToolCall({
      callId: `${id}_c1`,
      sessionId: id,
      responseId: `${id}_r1`,
      name: 'get_weather',
      argumentsJson: '{"city":"Lyon"}',
      status: 'in_progress',
      startedAtMs: createdAtMs + 2800,
    }),
  ).toBe(true);
  expect(
    store.recordToolCall({
      callId: `${id}_c1`,
      sessionId: id,
      name: 'get_weather',
      argumentsJson: '{"city":"Lyon"}',
      outputJson: '{"temp_c":21}',
      status: 'completed',
      endedAtMs: createdAtMs + 2900,
    }),
  ).toBe(true);
  expect(
    store.recordResponse({
      id: `${id}_r1`,
      sessionId: id,
      status: 'completed',
      text: 'It is 21 degrees.',
      usage: { output_tokens: 6 },
      completedAtMs: createdAtMs + 3100,
    }),
  ).toBe(true);
}

describe('TranscriptStore', () => {
  it('creates the file (0600) in WAL mode at the latest schema version', () => {
    const store = openStore();
    expect(store.journalMode).toBe('wal');
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('round-trips sessions, utterances, responses and tool calls, and survives reopening', () => {
    fillSession(openStore(), 'sess_1', 1_000);
    open.pop()!.close();
    const store = openStore();
    const detail = store.getSessionDetail('sess_1');
    expect(detail).toEqual({
      id: 'sess_1',
      keyId: 'key_a',
      type: 'realtime',
      model: 'phi-4-multimodal',
      createdAtMs: 1_000,
      endedAtMs: null,
      endReason: null,
      utterances: [
        {
          sessionId: 'sess_1',
          itemId: 'sess_1_u1',
          startMs: 320,
          endMs: 2110,
          endReason: 'silence',
          committedAtMs: 3600,
          transcript: 'what is the weather in Lyon',
          translation: null,
          language: null,
          transcriptionError: null,
        },
        {
          sessionId: 'sess_1',
          itemId: 'sess_1_u2',
          startMs: 4000,
          endMs: 5000,
          endReason: null,
          committedAtMs: 6600,
          transcript: 'thanks',
          translation: 'merci',
          language: 'en',
          transcriptionError: null,
        },
      ],
      responses: [
        {
          id: 'sess_1_r1',
          sessionId: 'sess_1',
          inputItemId: 'sess_1_u1',
          status: 'completed',
          text: 'It is 21 degrees.',
          usage: { output_tokens: 6 },
          createdAtMs: 3700,
          completedAtMs: 4100,
        },
      ],
      toolCalls: [
        {
          callId: 'sess_1_c1',
          sessionId: 'sess_1',
          responseId: 'sess_1_r1',
          name: 'get_weather',
          argumentsJson: '{"city":"Lyon"}',
          outputJson: '{"temp_c":21}',
          status: 'completed',
          startedAtMs: 3800,
          endedAtMs: 3900,
        },
      ],
    });
    expect(store.endSession('sess_1', 'client_closed', 9_000)).toBe(true);
    expect(store.endSession('sess_1', 'again', 10_000)).toBe(true); // first end wins
    expect(store.getSession('sess_1')).toMatchObject({ endedAtMs: 9_000, endReason: 'client_closed' });
    expect(store.getSession('nope')).toBeNull();
  });

  it('lists newest first, scoped by key, with an id cursor', () => {
    const store = openStore();
    for (let i = 0; i < 5; i++)
      store.startSession({ id: `s${i}`, keyId: i % 2 ? 'key_b' : 'key_a', type: 'realtime', createdAtMs: 1000 + i });
    expect(store.listSessions().sessions.map((s) => s.id)).toEqual(['s4', 's3', 's2', 's1', 's0']);
    const page1 = store.listSessions({ keyId: 'key_a', limit: 2 });
    expect(page1).toMatchObject({ hasMore: true, sessions: [{ id: 's4' }, { id: 's2' }] });
    const page2 = store.listSessions({ keyId: 'key_a', limit: 2, after: 's2' });
    expect(page2).toMatchObject({ hasMore: false, sessions: [{ id: 's0' }] });
    expect(store.listSessions({ after: 'unknown' }).sessions).toEqual([]);
  });

  it('closes sessions left open by a crash at their last activity', () => {
    const store = openStore();
    fillSession(store, 'crashed', 1_000);
    store.startSession({ id: 'done', keyId: 'k', type: 'realtime', createdAtMs: 50 });
    store.endSession('done', 'client_closed', 60);
    expect(store.closeDanglingSessions()).toBe(1);
    expect(store.getSession('crashed')).toMatchObject({ endReason: 'interrupted', endedAtMs: 6_600 });
    expect(store.getSession('done')).toMatchObject({ endReason: 'client_closed', endedAtMs: 60 });
  });

  it('retention deletes old sessions with their rows, at start-up and on each sweep', () => {
    vi.useFakeTimers({ now: 100 * DAY_MS });
    try {
      const store = openStore();
      fillSession(store, 'old', 100 * DAY_MS - 31 * DAY_MS);
      fillSession(store, 'recent', 100 * DAY_MS - 29 * DAY_MS);
      const retention = startRetention(store, { retentionDays: 30, intervalMs: DAY_MS });
      expect(store.getSession('old')).toBeNull();
      expect(store.getUtterances('old')).toEqual([]);
      expect(store.getSession('recent')).not.toBeNull();
      vi.advanceTimersByTime(DAY_MS); // exactly 30 days old: kept
      expect(store.getSession('recent')).not.toBeNull();
      vi.advanceTimersByTime(DAY_MS); // 31 days old
      expect(store.getSession('recent')).toBeNull();
      retention.stop();
      const raw = new BetterSqlite3(path, { readonly: true });
      expect(
        raw
          .prepare(
            'SELECT (SELECT COUNT(*) FROM utterances) + (SELECT COUNT(*) FROM responses) + (SELECT COUNT(*) FROM tool_calls) AS n',
          )
          .get(),
      ).toEqual({ n: 0 });
      raw.close();
      // 0 days keeps everything and schedules nothing.
      fillSession(store, 'kept', 0);
      const timers = vi.getTimerCount();
      startRetention(store, { retentionDays: 0 });
      expect(vi.getTimerCount()).toBe(timers);
      expect(store.getSession('kept')).not.toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a failed write (disk full) and keeps serving reads and later writes', () => {
    const errors: { err: EarshotError; code: string }[] = [];
    const store = openStore({ onWriteError: (err, code) => errors.push({ err, code }) });
    store.startSession({ id: 's', keyId: 'k', type: 'realtime' });
    // Cap the file at its current size: the next page allocation fails exactly like a full disk.
    const raw = new BetterSqlite3(path);
    const pages = raw.pragma('page_count', { simple: true }) as number;
    raw.close();
    (store as unknown as { db: BetterSqlite3.Database }).db.pragma(`max_page_count = ${pages}`);
    let ok = true;
    for (let i = 0; i < 200 && ok; i++)
      ok = store.commitUtterance({
        sessionId: 's',
        itemId: `u${i}`,
        startMs: i,
        endMs: i + 1,
        transcript: 'x'.repeat(2000),
      });
    expect(ok).toBe(false);
    expect(errors.at(-1)).toMatchObject({ code: 'SQLITE_FULL', err: { code: 'E_STORE', retryable: true } });
    expect(store.getSession('s')).not.toBeNull();
    (store as unknown as { db: BetterSqlite3.Database }).db.pragma('max_page_count = 1073741823');
    expect(store.commitUtterance({ sessionId: 's', itemId: 'after', startMs: 0, endMs: 1 })).toBe(true);
  });

  it('keeps a reported transcription failure with its utterance; a version-1 file is migrated in place', () => {
    const v1 = join(dir, 'v1.sqlite');
    const raw = new BetterSqlite3(v1);
    raw.exec(MIGRATIONS[0].sql);
    raw.pragma('user_version = 1');
    raw.close();
    const store = TranscriptStore.open({ path: v1 });
    open.push(store);
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    fillSession(store, 's', 0);
    expect(store.setUtteranceError('s_u1', { code: 'E_ENGINE', message: 'The embedding graph failed' })).toBe(true);
    const [failed, ok] = store.getUtterances('s');
    expect(JSON.parse(failed.transcriptionError!)).toEqual({ code: 'E_ENGINE', message: 'The embedding graph failed' });
    expect(ok.transcriptionError).toBeNull();
  });

  it('refuses a file from a newer schema and a file that is not a database', () => {
    openStore();
    open.pop()!.close();
    const raw = new BetterSqlite3(path);
    raw.pragma('user_version = 999');
    raw.close();
    expect(() => TranscriptStore.open({ path })).toThrow(
      expect.objectContaining({ code: 'E_STORE', message: expect.stringContaining('newer') }),
    );
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not sqlite at all, just some text that is long enough to have a header'.repeat(20));
    expect(() => TranscriptStore.open({ path: junk })).toThrow(expect.objectContaining({ code: 'E_STORE' }));
  });

  it('never logs transcript text, even at debug level', () => {
    let logged = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logged += String(chunk)), done()) });
    const log = pino({ level: 'trace' }, sink);
    const store = openStore({ log });
    fillSession(store, 'private', 0);
    store.commitUtterance({
      sessionId: 'missing-session',
      itemId: 'u',
      startMs: 0,
      endMs: 1,
      transcript: 'secret words',
    }); // FK failure is logged
    expect(logged).toContain('transcript store write failed');
    expect(logged).not.toContain('secret words');
    expect(logged).not.toContain('weather in Lyon');
  });

  it('path: --store beats EARSHOT_STORE beats config beats the XDG default', () => {
    const env = { XDG_DATA_HOME: '/data', EARSHOT_STORE: '/env.sqlite' };
    expect(resolveStorePath({ flag: '/flag.sqlite', configPath: '/cfg.sqlite', env })).toBe('/flag.sqlite');
    expect(resolveStorePath({ configPath: '/cfg.sqlite', env })).toBe('/env.sqlite');
    expect(resolveStorePath({ configPath: '/cfg.sqlite', env: { XDG_DATA_HOME: '/data' } })).toBe('/cfg.sqlite');
    expect(resolveStorePath({ env: { XDG_DATA_HOME: '/data' } })).toBe('/data/earshot/earshot.sqlite');
    expect(defaultStorePath({ HOME: '/home/u' })).toMatch(/\.local\/share\/earshot\/earshot\.sqlite$/);
  });
});
