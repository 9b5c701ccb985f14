import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';

/** Where the agents' tool data lives unless agent.data_dir says otherwise: $XDG_DATA_HOME/earshot/agents. */
export function defaultAgentDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'earshot', 'agents');
}

/**
 * Opens one agent database (WAL, synchronous=NORMAL: a killed process keeps every committed write) and
 * applies its schema; `schema` must be idempotent (CREATE ... IF NOT EXISTS).
 */
export function openAgentDb(path: string, schema: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec(schema);
  return db;
}
