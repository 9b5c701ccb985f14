// Runs once before the tests: the browser client is built like `npm start` builds it (only when stale).
import { buildClientIfStale } from '../scripts/build_client.ts';

export async function setup(): Promise<void> {
  await buildClientIfStale();
}
