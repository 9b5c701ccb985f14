import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds the browser client into build/client/ when its sources changed, so browser and static-route
    // tests run against the current page however vitest is started (npm test or one file).
    globalSetup: ['test/global_setup.ts'],
    // About 3x the slowest test that relies on the default (~21 s in a full CI run on a shared, loaded
    // machine); slower tests (soak, benches, browser) set their own. Hooks: the JSON report gives no hook
    // times, so their bound stays generous (model fixtures and servers start in beforeAll).
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
