import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Backend, type DatabaseHandle, type DatabaseOptions } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export const backend: Backend = process.env.TEST_BACKEND === 'postgres' ? 'postgres' : 'pglite';

/** The server-level URL tests create their databases through. */
export const adminDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase extends DatabaseHandle {
  /** For PostgreSQL: the URL of this test's own database (for a second process or pool). */
  url: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file: in-memory PGlite, or a new PostgreSQL database. */
export async function createTestDatabase(options: DatabaseOptions = {}): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const handle = await openDatabase({ kind: 'pglite-memory' }, options);
    await migrateToLatest(handle.db);
    return { ...handle, url: undefined, drop: () => handle.close() };
  }
  const name = `pp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await serverQuery(`create database ${name}`);
  const url = withDatabase(adminDatabaseUrl, name);
  const handle = await openDatabase({ kind: 'postgres', url, poolSize: 20 }, options);
  await migrateToLatest(handle.db);
  let dropped = false;
  return {
    ...handle,
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await handle.close();
      await serverQuery(`drop database if exists ${name} with (force)`);
    },
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
