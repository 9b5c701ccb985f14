// The call-center agent's data: customers (seeded with fictional sample records on first open), tickets
// opened during calls, and call summaries with their transcripts. SQLite, kept across restarts.
import type { Database } from 'better-sqlite3';
import { openAgentDb } from './agent_db.ts';

export interface Customer {
  id: string;
  name: string;
  phone: string;
  email: string;
  plan: string;
  city: string;
}

export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';

export interface Ticket {
  id: number;
  customerId: string;
  subject: string;
  description: string;
  priority: TicketPriority;
  status: 'open' | 'closed';
  callId: string | null;
  createdAtMs: number;
}

export interface CallSummary {
  callId: string;
  summary: string;
  transcript: string[];
  createdAtMs: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS customers (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    plan  TEXT NOT NULL,
    city  TEXT NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS tickets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    subject       TEXT NOT NULL,
    description   TEXT NOT NULL,
    priority      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open',
    call_id       TEXT,
    created_at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS call_summaries (
    call_id         TEXT PRIMARY KEY,
    summary         TEXT NOT NULL,
    transcript_json TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL
  ) STRICT;
`;

/** Fictional sample customers (made up for this project; any resemblance is accidental). */
export const SAMPLE_CUSTOMERS: readonly Customer[] = [
  {
    id: 'C-1001',
    name: 'Ada Lindqvist',
    phone: '+1-555-0101',
    email: 'ada.lindqvist@example.com',
    plan: 'fiber 500',
    city: 'Portland',
  },
  {
    id: 'C-1002',
    name: 'Bruno Okafor',
    phone: '+1-555-0102',
    email: 'bruno.okafor@example.com',
    plan: 'mobile unlimited',
    city: 'Austin',
  },
  {
    id: 'C-1003',
    name: 'Chen Wei',
    phone: '+1-555-0103',
    email: 'chen.wei@example.com',
    plan: 'fiber 1000',
    city: 'Seattle',
  },
  {
    id: 'C-1004',
    name: 'Dolores Vega',
    phone: '+1-555-0104',
    email: 'dolores.vega@example.com',
    plan: 'basic dsl',
    city: 'Denver',
  },
  {
    id: 'C-1005',
    name: 'Emeka Hansen',
    phone: '+1-555-0105',
    email: 'emeka.hansen@example.com',
    plan: 'mobile family',
    city: 'Boston',
  },
  {
    id: 'C-1006',
    name: 'Fatima Rossi',
    phone: '+1-555-0106',
    email: 'fatima.rossi@example.com',
    plan: 'fiber 500',
    city: 'Chicago',
  },
];

type TicketRow = {
  id: number;
  customer_id: string;
  subject: string;
  description: string;
  priority: TicketPriority;
  status: 'open' | 'closed';
  call_id: string | null;
  created_at_ms: number;
};

const toTicket = (r: TicketRow): Ticket => ({
  id: r.id,
  customerId: r.customer_id,
  subject: r.subject,
  description: r.description,
  priority: r.priority,
  status: r.status,
  callId: r.call_id,
  createdAtMs: r.created_at_ms,
});

export class CallCenterStore {
  private constructor(
    private readonly db: Database,
    private readonly nowMs: () => number,
  ) {}

  static open(path: string, nowMs: () => number = Date.now): CallCenterStore {
    const db = openAgentDb(path, SCHEMA);
    const insert = db.prepare(
      'INSERT OR IGNORE INTO customers (id, name, phone, email, plan, city) VALUES (@id, @name, @phone, @email, @plan, @city)',
    );
    db.transaction(() => SAMPLE_CUSTOMERS.forEach((c) => insert.run(c)))();
    return new CallCenterStore(db, nowMs);
  }

  /** Customers whose id, name, phone or email contains the query (case-insensitive; phone digits only). */
  findCustomers(query: string, limit = 5): Customer[] {
    const q = `%${query.trim().toLowerCase()}%`;
    const digits = query.replace(/\D/g, '');
    const rows = this.db
      .prepare(
        `SELECT * FROM customers WHERE lower(id) LIKE ? OR lower(name) LIKE ? OR lower(email) LIKE ?
           OR (? <> '' AND replace(replace(replace(phone, '-', ''), '+', ''), ' ', '') LIKE ?) ORDER BY id LIMIT ?`,
      )
      .all(q, q, q, digits, `%${digits}%`, limit) as Customer[];
    return rows;
  }

  getCustomer(id: string): Customer | undefined {
    return this.db.prepare('SELECT * FROM customers WHERE id = ?').get(id) as Customer | undefined;
  }

  openTicket(t: {
    customerId: string;
    subject: string;
    description: string;
    priority: TicketPriority;
    callId?: string;
  }): Ticket {
    const row = this.db
      .prepare(
        'INSERT INTO tickets (customer_id, subject, description, priority, call_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      )
      .get(t.customerId, t.subject, t.description, t.priority, t.callId ?? null, this.nowMs()) as TicketRow;
    return toTicket(row);
  }

  listTickets(customerId: string): Ticket[] {
    return (
      this.db.prepare('SELECT * FROM tickets WHERE customer_id = ? ORDER BY id').all(customerId) as TicketRow[]
    ).map(toTicket);
  }

  saveCallSummary(callId: string, summary: string, transcript: string[]): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO call_summaries (call_id, summary, transcript_json, created_at_ms) VALUES (?, ?, ?, ?)',
      )
      .run(callId, summary, JSON.stringify(transcript), this.nowMs());
  }

  getCallSummary(callId: string): CallSummary | undefined {
    const r = this.db.prepare('SELECT * FROM call_summaries WHERE call_id = ?').get(callId) as
      | { call_id: string; summary: string; transcript_json: string; created_at_ms: number }
      | undefined;
    return (
      r && {
        callId: r.call_id,
        summary: r.summary,
        transcript: JSON.parse(r.transcript_json) as string[],
        createdAtMs: r.created_at_ms,
      }
    );
  }

  close(): void {
    this.db.close();
  }
}
