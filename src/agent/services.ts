// What tools may use besides their arguments: the SQLite stores, remote-service settings and a clock.
// Stores open lazily so a server whose agents never touch them never creates a database file.
import type { CallCenterStore } from '../store/agent_call_center_store.ts';
import type { ItineraryStore } from '../store/agent_itinerary_store.ts';

export interface RemoteServiceConfig {
  url?: string;
  api_key?: string;
}

export interface AgentServices {
  now(): Date;
  itineraries(): ItineraryStore;
  callCenter(): CallCenterStore;
  /** Remote services by name (config `agent.remote_services`). */
  remote(name: string): RemoteServiceConfig | undefined;
  fetch: typeof fetch;
  close(): void;
}
