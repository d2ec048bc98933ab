import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['host/test/**/*.test.ts'],
    // Fixture plugins are built once per run and shared by the files that use them.
    globalSetup: ['host/test/fixtures/fixture-builds.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
