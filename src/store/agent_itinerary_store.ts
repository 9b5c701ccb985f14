// The trip planner's itineraries: stops the caller adds by voice, kept in SQLite across restarts.
import type { Database } from 'better-sqlite3';
import { openAgentDb } from './agent_db.ts';

export interface ItineraryStop {
  id: number;
  trip: string;
  description: string;
  city: string | null;
  /** ISO date (YYYY-MM-DD) or null. */
  date: string | null;
  createdAtMs: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS itinerary_stops (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    trip          TEXT NOT NULL,
    description   TEXT NOT NULL,
    city          TEXT,
    date          TEXT,
    created_at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS itinerary_stops_by_trip ON itinerary_stops (trip, date, id);
`;

type Row = {
  id: number;
  trip: string;
  description: string;
  city: string | null;
  date: string | null;
  created_at_ms: number;
};

const toStop = (r: Row): ItineraryStop => ({
  id: r.id,
  trip: r.trip,
  description: r.description,
  city: r.city,
  date: r.date,
  createdAtMs: r.created_at_ms,
});

export class ItineraryStore {
  private constructor(
    private readonly db: Database,
    private readonly nowMs: () => number,
  ) {}

  static open(path: string, nowMs: () => number = Date.now): ItineraryStore {
    return new ItineraryStore(openAgentDb(path, SCHEMA), nowMs);
  }

  addStop(trip: string, stop: { description: string; city?: string; date?: string }): ItineraryStop {
    const row = this.db
      .prepare(
        'INSERT INTO itinerary_stops (trip, description, city, date, created_at_ms) VALUES (?, ?, ?, ?, ?) RETURNING *',
      )
      .get(trip, stop.description, stop.city ?? null, stop.date ?? null, this.nowMs()) as Row;
    return toStop(row);
  }

  /** Stops in date order (undated last), then in the order they were added. */
  listStops(trip: string): ItineraryStop[] {
    const rows = this.db
      .prepare('SELECT * FROM itinerary_stops WHERE trip = ? ORDER BY date IS NULL, date, id')
      .all(trip) as Row[];
    return rows.map(toStop);
  }

  removeStop(trip: string, id: number): boolean {
    return this.db.prepare('DELETE FROM itinerary_stops WHERE trip = ? AND id = ?').run(trip, id).changes > 0;
  }

  clearTrip(trip: string): number {
    return this.db.prepare('DELETE FROM itinerary_stops WHERE trip = ?').run(trip).changes;
  }

  close(): void {
    this.db.close();
  }
}
