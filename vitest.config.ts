import { defineConfig } from 'vitest/config';

const withDatabase = {
  globalSetup: ['test/helpers/global-setup.ts'],
  setupFiles: ['test/helpers/leak-check.ts'],
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/helpers/leak-check.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          ...withDatabase,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          ...withDatabase,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
