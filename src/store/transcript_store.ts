import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { EarshotError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { migrate } from './migrations.ts';
import type {
  ResponseRecord,
  SessionDetail,
  SessionPage,
  SessionRecord,
  ToolCallRecord,
  UtteranceRecord,
} from './store_types.ts';

export type * from './store_types.ts';

export interface TranscriptStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  log?: Logger;
  nowMs?: () => number;
  /** Called when a write fails (read-only file, disk full...). The write is dropped; serving goes on. */
  onWriteError?: (err: EarshotError, sqliteCode: string) => void;
}

/** Where transcripts live unless --store / EARSHOT_STORE / store.path say otherwise. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'earshot', 'earshot.sqlite');
}

/** Precedence: the --store flag, then EARSHOT_STORE, then the config file's store.path, then the default. */
export function resolveStorePath(opts: { flag?: string; configPath?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = opts.env ?? process.env;
  return opts.flag || env.EARSHOT_STORE || opts.configPath || defaultStorePath(env);
}

type Row = Record<string, unknown>;

/**
 * Durable sessions and transcripts in SQLite (WAL). Every write is one small synchronous transaction made
 * when the event happens (utterance committed, transcript done, response done), so a process killed at
 * any moment keeps everything written before it: WAL with synchronous=NORMAL loses nothing on a process
 * crash (only an OS crash can drop the last commits). Transcript text is never logged.
 */
export class TranscriptStore {
  private readonly db: Database;
  private readonly log?: Logger;
  private readonly nowMs: () => number;
  private readonly onWriteError?: TranscriptStoreOptions['onWriteError'];
  private readonly stmt: Record<string, Statement>;
  readonly path: string;

  private constructor(db: Database, opts: TranscriptStoreOptions) {
    this.db = db;
    this.path = opts.path;
    this.log = opts.log;
    this.nowMs = opts.nowMs ?? (() => Date.now());
    this.onWriteError = opts.onWriteError;
    this.stmt = prepareStatements(db);
  }

  /** Opens (creating directory and file, mode 0600: transcripts are private) and migrates. */
  static open(opts: TranscriptStoreOptions): TranscriptStore {
    const inMemory = opts.path === ':memory:';
    let db: Database;
    try {
      if (!inMemory) mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      db = new BetterSqlite3(opts.path);
    } catch (err) {
      throw new EarshotError('E_STORE', `Cannot open the transcript store at ${opts.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      if (!inMemory) {
        chmodSync(opts.path, 0o600);
        db.pragma('journal_mode = WAL');
      }
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // Another process (e.g. `earshot sessions` while serving) may hold the write lock briefly.
      db.pragma('busy_timeout = 2000');
      const { from, to } = migrate(db);
      if (from !== to) opts.log?.info({ path: opts.path, from, to }, 'transcript store migrated');
    } catch (err) {
      db.close();
      if (err instanceof EarshotError) throw err;
      throw new EarshotError(
        'E_STORE',
        `Cannot initialise the transcript store at ${opts.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new TranscriptStore(db, opts);
  }

  get journalMode(): string {
    return this.db.pragma('journal_mode', { simple: true }) as string;
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  // ---- writes: each returns false (after reporting) instead of throwing, so serving continues ----

  startSession(s: { id: string; keyId: string; type: string; model?: string | null; createdAtMs?: number }): boolean {
    return this.write('startSession', () => {
      this.stmt.startSession.run({
        id: s.id,
        key_id: s.keyId,
        type: s.type,
        model: s.model ?? null,
        created_at_ms: s.createdAtMs ?? this.nowMs(),
      });
    });
  }

  endSession(id: string, reason: string, endedAtMs?: number): boolean {
    return this.write('endSession', () => {
      this.stmt.endSession.run({ id, end_reason: reason, ended_at_ms: endedAtMs ?? this.nowMs() });
    });
  }

  /** At the utterance commit; the transcript usually arrives later through setUtteranceText. */
  commitUtterance(u: {
    sessionId: string;
    itemId: string;
    startMs: number;
    endMs: number;
    endReason?: string | null;
    committedAtMs?: number;
    transcript?: string | null;
    translation?: string | null;
    language?: string | null;
  }): boolean {
    return this.write('commitUtterance', () => {
      this.stmt.commitUtterance.run({
        item_id: u.itemId,
        session_id: u.sessionId,
        start_ms: Math.round(u.startMs),
        end_ms: Math.round(u.endMs),
        end_reason: u.endReason ?? null,
        committed_at_ms: u.committedAtMs ?? this.nowMs(),
        transcript: u.transcript ?? null,
        translation: u.translation ?? null,
        language: u.language ?? null,
      });
    });
  }

  /** Sets the fields given (others unchanged). */
  setUtteranceText(itemId: string, text: { transcript?: string; translation?: string; language?: string }): boolean {
    return this.write('setUtteranceText', () => {
      this.stmt.setUtteranceText.run({
        item_id: itemId,
        transcript: text.transcript ?? null,
        translation: text.translation ?? null,
        language: text.language ?? null,
      });
    });
  }

  /** A reported transcription failure ({code, message}), kept with the utterance. */
  setUtteranceError(itemId: string, error: { code: string; message: string }): boolean {
    return this.write('setUtteranceError', () => {
      this.stmt.setUtteranceError.run({ item_id: itemId, transcription_error: JSON.stringify(error) });
    });
  }

  /** Insert or update (in_progress first, completed later, or only once at response.done). */
  recordResponse(
    r: Omit<ResponseRecord, 'inputItemId' | 'text' | 'usage' | 'createdAtMs' | 'completedAtMs'> &
      Partial<ResponseRecord>,
  ): boolean {
    return this.write('recordResponse', () => {
      this.stmt.recordResponse.run({
        id: r.id,
        session_id: r.sessionId,
        input_item_id: r.inputItemId ?? null,
        status: r.status,
        text: r.text ?? null,
        usage_json: r.usage === undefined || r.usage === null ? null : JSON.stringify(r.usage),
        created_at_ms: r.createdAtMs ?? this.nowMs(),
        completed_at_ms: r.completedAtMs ?? null,
      });
    });
  }

  recordToolCall(
    t: Omit<ToolCallRecord, 'responseId' | 'outputJson' | 'startedAtMs' | 'endedAtMs'> & Partial<ToolCallRecord>,
  ): boolean {
    return this.write('recordToolCall', () => {
      this.stmt.recordToolCall.run({
        call_id: t.callId,
        session_id: t.sessionId,
        response_id: t.responseId ?? null,
        name: t.name,
        arguments_json: t.argumentsJson,
        output_json: t.outputJson ?? null,
        status: t.status,
        started_at_ms: t.startedAtMs ?? this.nowMs(),
        ended_at_ms: t.endedAtMs ?? null,
      });
    });
  }

  /** A tool call's result (server tool or client function_call_output); only a call of that session is updated. */
  recordToolCallOutput(callId: string, sessionId: string, outputJson: string, endedAtMs?: number): boolean {
    return this.write('recordToolCallOutput', () => {
      this.stmt.recordToolCallOutput.run({
        call_id: callId,
        session_id: sessionId,
        output_json: outputJson,
        ended_at_ms: endedAtMs ?? this.nowMs(),
      });
    });
  }

  /**
   * Sessions still open in the file were cut off by a crash or SIGKILL: mark them ended (at their last
   * recorded activity) so listings are truthful. Call once at start-up, before admitting sessions.
   */
  closeDanglingSessions(reason = 'interrupted'): number {
    let changed = 0;
    this.write('closeDanglingSessions', () => {
      changed = this.stmt.closeDangling.run({ end_reason: reason }).changes;
    });
    return changed;
  }

  /** Deletes sessions created before `cutoffMs` with everything recorded for them; returns how many. */
  deleteSessionsOlderThan(cutoffMs: number): number {
    let deleted = 0;
    this.write('deleteSessionsOlderThan', () => {
      deleted = this.stmt.deleteOlder.run({ cutoff_ms: cutoffMs }).changes;
    });
    return deleted;
  }

  // ---- reads: throw EarshotError('E_STORE') on failure ----

  /** Newest first. `keyId` scopes the listing to one key's sessions; `after` is a session id cursor. */
  listSessions(opts: { keyId?: string; limit?: number; after?: string } = {}): SessionPage {
    return this.read(() => {
      const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 20), 1), 100);
      let cursor: { created_at_ms: number; id: string } | undefined;
      if (opts.after) {
        // Scoped like the page itself: another key's session id reads as unknown (no existence oracle).
        cursor = this.stmt.sessionCursor.get({ id: opts.after, key_id: opts.keyId ?? null }) as
          | { created_at_ms: number; id: string }
          | undefined;
        if (!cursor) return { sessions: [], hasMore: false };
      }
      const rows = this.stmt.listSessions.all({
        key_id: opts.keyId ?? null,
        cursor_ms: cursor?.created_at_ms ?? null,
        cursor_id: cursor?.id ?? null,
        limit: limit + 1,
      }) as Row[];
      return { sessions: rows.slice(0, limit).map(toSession), hasMore: rows.length > limit };
    });
  }

  getSession(id: string): SessionRecord | null {
    return this.read(() => {
      const row = this.stmt.getSession.get({ id }) as Row | undefined;
      return row ? toSession(row) : null;
    });
  }

  /** Utterances in audio-time order. */
  getUtterances(sessionId: string): UtteranceRecord[] {
    return this.read(() => (this.stmt.getUtterances.all({ session_id: sessionId }) as Row[]).map(toUtterance));
  }

  getSessionDetail(id: string): SessionDetail | null {
    return this.read(() => {
      const session = this.getSession(id);
      if (!session) return null;
      return {
        ...session,
        utterances: this.getUtterances(id),
        responses: (this.stmt.getResponses.all({ session_id: id }) as Row[]).map(toResponse),
        toolCalls: (this.stmt.getToolCalls.all({ session_id: id }) as Row[]).map(toToolCall),
      };
    });
  }

  /** Writes the WAL into the main file (shutdown), then closes. Idempotent. */
  close(): void {
    if (!this.db.open) return;
    try {
      if (this.path !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'transcript store checkpoint failed at close');
    }
    this.db.close();
  }

  private write(op: string, fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      const sqliteCode = (err as { code?: string }).code ?? 'UNKNOWN';
      // Only the operation and SQLite's code: the row (a transcript) must never reach the log.
      this.log?.error({ op, sqliteCode, path: this.path }, 'transcript store write failed');
      this.onWriteError?.(
        new EarshotError('E_STORE', `Transcript store ${op} failed (${sqliteCode}).`, { cause: err, retryable: true }),
        sqliteCode,
      );
      return false;
    }
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof EarshotError) throw err;
      throw new EarshotError('E_STORE', `Transcript store read failed: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      });
    }
  }
}

function prepareStatements(db: Database): Record<string, Statement> {
  const sessionCols = 'id, key_id, type, model, created_at_ms, ended_at_ms, end_reason';
  return {
    startSession: db.prepare(
      `INSERT INTO sessions (id, key_id, type, model, created_at_ms) VALUES (@id, @key_id, @type, @model, @created_at_ms)
       ON CONFLICT (id) DO UPDATE SET type = excluded.type, model = excluded.model`,
    ),
    endSession: db.prepare(
      'UPDATE sessions SET ended_at_ms = @ended_at_ms, end_reason = @end_reason WHERE id = @id AND ended_at_ms IS NULL',
    ),
    commitUtterance: db.prepare(
      `INSERT INTO utterances (item_id, session_id, start_ms, end_ms, end_reason, committed_at_ms, transcript, translation, language)
       VALUES (@item_id, @session_id, @start_ms, @end_ms, @end_reason, @committed_at_ms, @transcript, @translation, @language)
       ON CONFLICT (item_id) DO UPDATE SET start_ms = excluded.start_ms, end_ms = excluded.end_ms, end_reason = excluded.end_reason,
         transcript = COALESCE(excluded.transcript, transcript), translation = COALESCE(excluded.translation, translation),
         language = COALESCE(excluded.language, language)`,
    ),
    setUtteranceText: db.prepare(
      `UPDATE utterances SET transcript = COALESCE(@transcript, transcript), translation = COALESCE(@translation, translation),
         language = COALESCE(@language, language) WHERE item_id = @item_id`,
    ),
    setUtteranceError: db.prepare(
      'UPDATE utterances SET transcription_error = @transcription_error WHERE item_id = @item_id',
    ),
    recordResponse: db.prepare(
      `INSERT INTO responses (id, session_id, input_item_id, status, text, usage_json, created_at_ms, completed_at_ms)
       VALUES (@id, @session_id, @input_item_id, @status, @text, @usage_json, @created_at_ms, @completed_at_ms)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, text = COALESCE(excluded.text, text),
         usage_json = COALESCE(excluded.usage_json, usage_json), completed_at_ms = COALESCE(excluded.completed_at_ms, completed_at_ms),
         input_item_id = COALESCE(excluded.input_item_id, input_item_id)`,
    ),
    recordToolCall: db.prepare(
      `INSERT INTO tool_calls (call_id, session_id, response_id, name, arguments_json, output_json, status, started_at_ms, ended_at_ms)
       VALUES (@call_id, @session_id, @response_id, @name, @arguments_json, @output_json, @status, @started_at_ms, @ended_at_ms)
       ON CONFLICT (call_id) DO UPDATE SET output_json = COALESCE(excluded.output_json, output_json), status = excluded.status,
         ended_at_ms = COALESCE(excluded.ended_at_ms, ended_at_ms)`,
    ),
    recordToolCallOutput: db.prepare(
      `UPDATE tool_calls SET output_json = @output_json, status = 'completed', ended_at_ms = @ended_at_ms
       WHERE call_id = @call_id AND session_id = @session_id`,
    ),
    closeDangling: db.prepare(
      `UPDATE sessions SET end_reason = @end_reason, ended_at_ms = MAX(created_at_ms,
         COALESCE((SELECT MAX(committed_at_ms) FROM utterances u WHERE u.session_id = sessions.id), created_at_ms),
         COALESCE((SELECT MAX(COALESCE(completed_at_ms, created_at_ms)) FROM responses r WHERE r.session_id = sessions.id), created_at_ms))
       WHERE ended_at_ms IS NULL`,
    ),
    deleteOlder: db.prepare('DELETE FROM sessions WHERE created_at_ms < @cutoff_ms'),
    sessionCursor: db.prepare(
      'SELECT created_at_ms, id FROM sessions WHERE id = @id AND (@key_id IS NULL OR key_id = @key_id)',
    ),
    listSessions: db.prepare(
      `SELECT ${sessionCols} FROM sessions
       WHERE (@key_id IS NULL OR key_id = @key_id)
         AND (@cursor_ms IS NULL OR created_at_ms < @cursor_ms OR (created_at_ms = @cursor_ms AND id < @cursor_id))
       ORDER BY created_at_ms DESC, id DESC LIMIT @limit`,
    ),
    getSession: db.prepare(`SELECT ${sessionCols} FROM sessions WHERE id = @id`),
    getUtterances: db.prepare('SELECT * FROM utterances WHERE session_id = @session_id ORDER BY start_ms, rowid'),
    getResponses: db.prepare('SELECT * FROM responses WHERE session_id = @session_id ORDER BY created_at_ms, rowid'),
    getToolCalls: db.prepare('SELECT * FROM tool_calls WHERE session_id = @session_id ORDER BY started_at_ms, rowid'),
  };
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toSession(r: Row): SessionRecord {
  return {
    id: String(r.id),
    keyId: String(r.key_id),
    type: String(r.type),
    model: str(r.model),
    createdAtMs: Number(r.created_at_ms),
    endedAtMs: num(r.ended_at_ms),
    endReason: str(r.end_reason),
  };
}

function toUtterance(r: Row): UtteranceRecord {
  return {
    sessionId: String(r.session_id),
    itemId: String(r.item_id),
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    endReason: str(r.end_reason),
    committedAtMs: Number(r.committed_at_ms),
    transcript: str(r.transcript),
    translation: str(r.translation),
    language: str(r.language),
    transcriptionError: str(r.transcription_error),
  };
}

function toResponse(r: Row): ResponseRecord {
  return {
    id: String(r.id),
    sessionId: String(r.session_id),
    inputItemId: str(r.input_item_id),
    status: String(r.status),
    text: str(r.text),
    usage: r.usage_json === null ? null : (JSON.parse(String(r.usage_json)) as unknown),
    createdAtMs: Number(r.created_at_ms),
    completedAtMs: num(r.completed_at_ms),
  };
}

function toToolCall(r: Row): ToolCallRecord {
  return {
    callId: String(r.call_id),
    sessionId: String(r.session_id),
    responseId: str(r.response_id),
    name: String(r.name),
    argumentsJson: String(r.arguments_json),
    outputJson: str(r.output_json),
    status: String(r.status),
    startedAtMs: Number(r.started_at_ms),
    endedAtMs: num(r.ended_at_ms),
  };
}
