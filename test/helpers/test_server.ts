import { configSchema, type EarshotConfig } from '../../src/config/schema.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

/** A real Earshot server on 127.0.0.1, port 0. */
export async function startTestServer(overrides: Overrides = {}): Promise<RunningServer> {
  const config = configSchema.parse({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    log: { level: 'silent', ...overrides.log },
  });
  return startServer(config, createLogger(config.log.level));
}
