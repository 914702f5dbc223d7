import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle, type DatabaseOptions } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createCitusDatabase, dropCitusDatabase } from './citus-cluster.js';

/** Where the storage tests run: embedded PGlite, the PostgreSQL of DATABASE_URL, or a Citus cluster. */
export type TestBackend = 'pglite' | 'postgres' | 'citus';

export const backend: TestBackend =
  process.env.TEST_BACKEND === 'postgres' || process.env.TEST_BACKEND === 'citus' ? process.env.TEST_BACKEND : 'pglite';

/** PostgreSQL or Citus: a database server other processes connect to. */
export const serverBackend = backend !== 'pglite';

/** The server-level URL tests create their PostgreSQL databases through. */
export const adminDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A test's database. `db` is the test's own view, for setting up and checking what is stored;
 * `service` is what the service under test runs on. On Citus they are two pools: the service's
 * connections refuse any statement that would run on several shards (PGOPTIONS of the citus
 * project), while the test's may count rows across orgs. Elsewhere they are one handle.
 */
export interface TestDatabase extends DatabaseHandle {
  service: DatabaseHandle;
  /** For PostgreSQL and Citus: the URL of this test's own database (for a second process or pool). */
  url: string | undefined;
  drop(): Promise<void>;
}

/** The test's own connections may span shards and join across them, whatever PGOPTIONS says. */
const UNRESTRICTED = '-c citus.multi_task_query_log_level=off -c citus.enable_repartition_joins=on';

/**
 * A fresh, migrated database for one test file: in-memory PGlite, a new PostgreSQL database, or
 * a new database on the Citus cluster (made on every node, see citus-cluster.ts).
 */
export async function createTestDatabase(options: DatabaseOptions = {}): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const handle = await openDatabase({ kind: 'pglite-memory' }, options);
    await migrateToLatest(handle.db);
    return { ...handle, service: handle, url: undefined, drop: () => handle.close() };
  }
  const { url, dropDatabase } = await createServerDatabase();
  const service = await openDatabase({ kind: 'postgres', url, poolSize: 20 }, options);
  const handle =
    backend === 'citus'
      ? await openDatabase({ kind: 'postgres', url, poolSize: 20 }, { ...options, startupOptions: UNRESTRICTED })
      : service;
  await migrateToLatest(service.db);
  let dropped = false;
  return {
    ...handle,
    service,
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      if (handle !== service) await handle.close();
      await service.close();
      await dropDatabase();
    },
  };
}

/** An empty database of its own on the test's server (PostgreSQL or Citus), and how to drop it. */
export async function createServerDatabase(): Promise<{ url: string; dropDatabase: () => Promise<void> }> {
  const name = `pp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (backend === 'citus') {
    const url = await createCitusDatabase(name);
    return { url, dropDatabase: () => dropCitusDatabase(name) };
  }
  await serverQuery(`create database ${name}`);
  return {
    url: withDatabase(adminDatabaseUrl, name),
    dropDatabase: () => serverQuery(`drop database if exists ${name} with (force)`),
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function serverQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
