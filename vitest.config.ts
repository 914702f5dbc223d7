import { defineConfig } from 'vitest/config';

/**
 * Unit tests run once. Everything that touches storage (test/api, test/e2e) runs on embedded
 * PGlite and on the PostgreSQL server of DATABASE_URL, unchanged, and a named subset on a local
 * Citus cluster. Each test file makes and drops its own database, so runs never collide.
 */
const storage = ['test/api/**/*.test.ts', 'test/e2e/**/*.test.ts'];
/**
 * On a Citus cluster: every API test (each repository and use case, and a shard moved under
 * load), and the end-to-end tests whose subject is the database: the service as a process, two
 * scheduler processes and two delivery workers on one database. The rest of test/e2e (command
 * line, logs, metrics, the README) passes there too but brought CI to 27 of its 30 minutes.
 */
const citusSubset = [
  'test/api/**/*.test.ts',
  'test/e2e/service.test.ts',
  'test/e2e/scheduler.test.ts',
  'test/e2e/webhooks.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // Most of a storage test's time is spent waiting on the database or on a child process, so two
    // files at a time keep a 2-core machine busy (vitest's default here is one).
    maxWorkers: 2,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'pglite', include: storage, env: { TEST_BACKEND: 'pglite' } } },
      { extends: true, test: { name: 'postgres', include: storage, env: { TEST_BACKEND: 'postgres' } } },
      {
        extends: true,
        test: {
          name: 'citus',
          include: citusSubset,
          globalSetup: ['test/support/citus-cluster.ts'],
          env: {
            TEST_BACKEND: 'citus',
            // Every statement that would run on more than one shard fails (SPEC §11: none on the
            // hot path; background work that must span shards says so, see src/db/shards.ts). Four
            // shards per table keep a test file's database quick to make.
            PGOPTIONS: '-c citus.multi_task_query_log_level=error -c citus.shard_count=4',
          },
        },
      },
    ],
  },
});
