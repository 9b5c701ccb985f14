import { OVERLOAD_GUARDS_OFF, configSchema, type EarshotConfig } from '../../src/config/schema.ts';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

/**
 * A real Earshot server on 127.0.0.1, port 0. Without keys (auth off, allowed on loopback), with the
 * transcript store and the agents' data in memory: a test never writes to the user's data directory.
 * EARSHOT_API_KEYS of the test process is ignored unless options.env passes it.
 */
export async function startTestServer(
  overrides: Overrides = {},
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const config = configSchema.parse({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    log: { level: 'silent', ...overrides.log },
    store: { path: ':memory:', ...overrides.store },
    agent: { data_dir: ':memory:', ...overrides.agent },
    // Test processes run engines and fixtures on their own event loop: no overload refusals unless a test asks.
    limits: {
      ...OVERLOAD_GUARDS_OFF,
      ...overrides.limits,
    },
  });
  return startServer(config, createLogger(config.log.level), { env: {}, ...options });
}
