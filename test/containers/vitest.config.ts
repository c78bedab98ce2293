// The container suite (Docker): not part of `npm test`. Run it with
//   npx vitest run --config test/containers/vitest.config.ts
// Without a Docker engine every test skips at once and says why.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/containers/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    // Pulling and starting Keycloak takes a while on a cold machine.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
