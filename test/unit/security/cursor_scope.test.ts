import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { TranscriptStore } from '../../../src/store/transcript_store.ts';

// `GET /v1/sessions?after=<id>` pages from a cursor; the cursor must be looked up in the caller's own
// sessions, or another key's session id answers differently from an unknown one (an existence oracle).

const open: TranscriptStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('session list cursors', () => {
  it("answer another key's session id exactly as an unknown id", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.constantFrom('key_a', 'key_b'), createdAtMs: fc.integer({ min: 0, max: 50 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        (rows, pick, limit) => {
          const store = TranscriptStore.open({ path: ':memory:' });
          open.push(store);
          rows.forEach((r, i) =>
            store.startSession({ id: `s${i}`, keyId: r.key, type: 'realtime', createdAtMs: r.createdAtMs }),
          );
          const target = pick % rows.length;
          const caller = rows[target].key === 'key_a' ? 'key_b' : 'key_a';
          const viaForeign = store.listSessions({ keyId: caller, limit, after: `s${target}` });
          const viaUnknown = store.listSessions({ keyId: caller, limit, after: 'no_such_session' });
          expect(viaForeign).toEqual(viaUnknown);
          // The owner's own cursor still pages.
          const own = store.listSessions({ keyId: rows[target].key, limit: 100, after: `s${target}` });
          expect(own.sessions.every((s) => s.keyId === rows[target].key)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
