import { defineConfig } from 'vitest/config';

const leakCheck = ['test/helpers/leak-check.ts'];
const database = 'test/helpers/global-setup.ts';

// The AWS SDK announces once per process that it will drop Node 20 (package.json "//engines"
// explains the pins); the CLI silences it the same way.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: leakCheck,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: [database],
          setupFiles: leakCheck,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // The operator console in Debian's Chromium (playwright-core; test/helpers/browser.ts).
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: [database],
          setupFiles: leakCheck,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Builds dist/ once, so CLI tests run the real binary.
          globalSetup: ['test/helpers/build-once.ts', database],
          setupFiles: leakCheck,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
