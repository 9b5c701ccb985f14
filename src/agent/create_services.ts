import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.ts';
import { defaultAgentDataDir } from '../store/agent_db.ts';
import { CallCenterStore } from '../store/agent_call_center_store.ts';
import { ItineraryStore } from '../store/agent_itinerary_store.ts';
import type { AgentServices } from './services.ts';

/** The server's tool services: SQLite stores under agent.data_dir, opened on first use. */
export function createAgentServices(
  config: AgentConfig,
  opts: { dataDir?: string; now?: () => Date } = {},
): AgentServices {
  const dir = opts.dataDir ?? config.data_dir ?? defaultAgentDataDir();
  let itineraries: ItineraryStore | undefined;
  let callCenter: CallCenterStore | undefined;
  return {
    now: opts.now ?? (() => new Date()),
    itineraries: () =>
      (itineraries ??= ItineraryStore.open(dir === ':memory:' ? dir : join(dir, 'itineraries.sqlite'))),
    callCenter: () => (callCenter ??= CallCenterStore.open(dir === ':memory:' ? dir : join(dir, 'call_center.sqlite'))),
    remote: (name) => config.remote_services[name],
    fetch: (input, init) => fetch(input, init),
    close: () => {
      itineraries?.close();
      callCenter?.close();
      itineraries = undefined;
      callCenter = undefined;
    },
  };
}
