import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds the browser client into build/client/ when its sources changed, so browser and static-route
    // tests run against the current page however vitest is started (npm test or one file).
    globalSetup: ['test/global_setup.ts'],
  },
});
