import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['host/test/**/*.test.ts'],
    // Fixture plugins are built once per run and shared by the files that use them.
    globalSetup: ['host/test/fixtures/fixture-builds.setup.ts'],
    // Files run one at a time on two cores (vitest's default, cores - 1 workers): heavy files side by side
    // beside CPU hogs would fight for the cores. Only tests marked concurrent (plugin-workflow, whose time
    // is spent in child processes) run two at a time within their file.
    maxConcurrency: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
