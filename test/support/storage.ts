import { join } from 'node:path';
import type { DB } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { serverBackend, createTestDatabase, type TestDatabase } from './database.js';

/**
 * Where the service processes of one test file keep their data, across restarts: a PostgreSQL
 * database of its own, or a PGlite data folder under `folder` (which one process holds at a time).
 */
export class ServiceStorage {
  private constructor(
    /** The settings that point a service at it: DATABASE_URL or DATA_DIR. */
    readonly env: Record<string, string>,
    private readonly database: TestDatabase | undefined,
  ) {}

  static async create(folder: string): Promise<ServiceStorage> {
    if (serverBackend) {
      const database = await createTestDatabase();
      return new ServiceStorage({ DATABASE_URL: database.url! }, database);
    }
    return new ServiceStorage({ DATA_DIR: join(folder, 'data') }, undefined);
  }

  /**
   * Runs `work` on the stored database from the test process: PostgreSQL's pool, or the data
   * folder opened (and migrated, should no service have made it yet) while no service holds it.
   */
  async use<T>(work: (db: DB) => Promise<T>): Promise<T> {
    if (this.database) return work(this.database.db);
    const handle = await openDatabase({ kind: 'pglite', dataDir: this.env.DATA_DIR! });
    try {
      await migrateToLatest(handle.db);
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  }

  async drop(): Promise<void> {
    await this.database?.drop();
  }
}
