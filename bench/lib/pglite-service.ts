import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery } from 'kysely';
import { LinkSlots } from './batches.js';
import { countMemberships, seedCustomers, type SqlClient } from './bench-database.js';
import type { Cleanup } from './cleanup.js';
import { runHttpLevel, withMembershipsAdded } from './http-load.js';
import type { Measurement } from './measurement.js';
import { HTTP_PROGRAMS, startService, type RunningService } from './service.js';
import type { ServerMode } from './settings.js';

export interface PGliteOptions {
  mode: ServerMode;
  configFile: string;
  customers: number;
  cpuProfileDir: string | undefined;
}

/**
 * The service on its embedded database: DATABASE_URL unset, PGlite in a fresh temporary DATA_DIR.
 * The service holds that folder alone while it runs (src/db/data-dir-lock.ts), so the bench opens
 * it only in between: to seed it after a first start has migrated it and applied the config, and
 * to count the memberships after each level.
 */
export class PGliteService {
  private running: RunningService | undefined;
  /** A database of its own, so the same programs as the service on PostgreSQL, from the start. */
  private readonly slots: LinkSlots<string>;
  private memberships = 0;

  private constructor(
    private readonly options: PGliteOptions,
    private readonly dataDir: string,
  ) {
    this.slots = new LinkSlots(HTTP_PROGRAMS, options.customers);
  }

  /** The data folder created, migrated, configured and seeded; each removed or stopped by `cleanup`. */
  static async prepare(options: PGliteOptions, cleanup: Cleanup): Promise<PGliteService> {
    const dataDir = mkdtempSync(join(tmpdir(), 'pp-bench-pglite-'));
    cleanup.add('remove the PGlite data dir', async () => rmSync(dataDir, { recursive: true, force: true }));
    const service = new PGliteService(options, dataDir);
    cleanup.add('stop the service on PGlite', () => service.stop());
    await service.start();
    await service.stop();
    service.memberships = await withDataDir(dataDir, async (client) => {
      await seedCustomers(client, options.customers);
      return countMemberships(client);
    });
    return service;
  }

  /**
   * One level on a service started for it, the memberships counted once it has stopped. Every
   * level starts the service afresh; its own warm-up precedes the measured runs, as on PostgreSQL.
   */
  async measureLevel(level: {
    connections: number;
    seconds: number;
    levelsLeft: number;
  }): Promise<Measurement | undefined> {
    const service = await this.start();
    const run = await runHttpLevel({
      ...level,
      address: service.address,
      slots: this.slots,
      serviceCpuSeconds: service.cpuSeconds,
    });
    const gone = service.exitReason();
    if (gone) throw new Error(`the service on PGlite ${gone} during the c=${level.connections} level`);
    await this.stop();
    if (!run) return undefined;
    const before = this.memberships;
    this.memberships = await withDataDir(this.dataDir, countMemberships);
    return withMembershipsAdded(run, this.memberships - before);
  }

  /** An empty DATABASE_URL is no DATABASE_URL (src/config.ts): the service opens PGlite in DATA_DIR. */
  private async start(): Promise<RunningService> {
    this.running = await startService({
      mode: this.options.mode,
      databaseUrl: '',
      configFile: this.options.configFile,
      cpuProfileDir: this.options.cpuProfileDir,
      env: { DATA_DIR: this.dataDir },
    });
    return this.running;
  }

  private async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }
}

/**
 * The data folder opened as the service opens it (src/db/database.ts, its lock included, so it is
 * never opened while a service holds it), for `work`, then closed. Imported here, so the bench
 * loads PGlite only when it measures it.
 */
async function withDataDir<T>(dataDir: string, work: (client: SqlClient) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../../src/db/database.js');
  const handle = await openDatabase({ kind: 'pglite', dataDir });
  try {
    return await work({
      query: <Row extends object>(text: string, values: unknown[] = []) =>
        handle.db.executeQuery<Row>(CompiledQuery.raw(text, values)),
    });
  } finally {
    await handle.close();
  }
}
