import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const migrationsFolder = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Numbered, forward-only `.sql` files. */
class SqlFileMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(migrationsFolder)).filter((f) => f.endsWith('.sql')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const text = await readFile(migrationsFolder + file, 'utf8');
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (db) => {
          await sql.raw(text).execute(db);
        },
      };
    }
    return migrations;
  }
}

/** A migration failed; the message names it. */
export class MigrationError extends Error {
  constructor(
    readonly migrationName: string,
    cause: unknown,
  ) {
    super(
      `Migration ${migrationName} failed: ${cause instanceof Error ? cause.message : String(cause)}; ` +
        'no pending migration was applied',
      { cause },
    );
    this.name = 'MigrationError';
  }
}

/**
 * Applies every pending migration. Kysely's migrator takes an advisory lock, so several
 * instances starting at once apply each migration exactly once, and runs the pending ones in one
 * transaction (PostgreSQL's DDL is transactional), so a failure leaves the schema as it was.
 * A failure of a migration throws a `MigrationError`; any other (the database went away) is
 * thrown as it came.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw failed ? new MigrationError(failed, error) : error;
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
