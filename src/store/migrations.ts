import type { Database } from 'better-sqlite3';
import { EarshotError } from '../errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Schema history, append only: never edit a migration that has shipped, add the next version instead.
 * The applied version is SQLite's `PRAGMA user_version`, updated in the same transaction as the DDL, so
 * a crash mid-migration leaves the previous version intact.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, utterances, responses, tool calls',
    sql: `
      CREATE TABLE sessions (
        id            TEXT PRIMARY KEY,
        key_id        TEXT NOT NULL,
        type          TEXT NOT NULL,
        model         TEXT,
        created_at_ms INTEGER NOT NULL,
        ended_at_ms   INTEGER,
        end_reason    TEXT
      ) STRICT;
      CREATE INDEX sessions_by_key_time ON sessions (key_id, created_at_ms DESC, id DESC);
      CREATE INDEX sessions_by_time ON sessions (created_at_ms);

      -- start_ms / end_ms are audio time (sample clock) within the session; committed_at_ms is wall time.
      CREATE TABLE utterances (
        item_id         TEXT PRIMARY KEY,
        session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        start_ms        INTEGER NOT NULL,
        end_ms          INTEGER NOT NULL,
        end_reason      TEXT,
        committed_at_ms INTEGER NOT NULL,
        transcript      TEXT,
        translation     TEXT,
        language        TEXT
      ) STRICT;
      CREATE INDEX utterances_by_session ON utterances (session_id, start_ms);

      CREATE TABLE responses (
        id              TEXT PRIMARY KEY,
        session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        input_item_id   TEXT,
        status          TEXT NOT NULL,
        text            TEXT,
        usage_json      TEXT,
        created_at_ms   INTEGER NOT NULL,
        completed_at_ms INTEGER
      ) STRICT;
      CREATE INDEX responses_by_session ON responses (session_id, created_at_ms);

      CREATE TABLE tool_calls (
        call_id        TEXT PRIMARY KEY,
        session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        response_id    TEXT,
        name           TEXT NOT NULL,
        arguments_json TEXT NOT NULL,
        output_json    TEXT,
        status         TEXT NOT NULL,
        started_at_ms  INTEGER NOT NULL,
        ended_at_ms    INTEGER
      ) STRICT;
      CREATE INDEX tool_calls_by_session ON tool_calls (session_id, started_at_ms);
    `,
  },
  {
    version: 2,
    name: "the reported failure of an utterance's transcription",
    sql: `
      -- JSON {code, message} of conversation.item.input_audio_transcription.failed; NULL when none failed.
      ALTER TABLE utterances ADD COLUMN transcription_error TEXT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Applies every migration newer than the file's version; refuses a file written by a newer Earshot. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  if (from > latest) {
    throw new EarshotError(
      'E_STORE',
      `The transcript store has schema version ${from}, newer than this Earshot knows (${latest}); upgrade Earshot or use another --store file.`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      // PRAGMA cannot take a bound parameter; the version is an integer from this file.
      db.pragma(`user_version = ${Math.trunc(migration.version)}`);
    })();
  }
  return { from, to: Math.max(from, latest) };
}
