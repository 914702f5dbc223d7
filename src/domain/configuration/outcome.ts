import type { Transaction } from 'kysely';
import type { DB } from '../../db/database.js';
import { serializeConfigurationChanges } from '../../db/repositories/orgs.repository.js';
import type { Database } from '../../db/schema.js';

/**
 * What an admin use case answers: a value, or a failure of a closed kind with every problem
 * named by its field path (`customers[3].email: …`). The HTTP layer maps the kind to a status.
 */
export type FailureKind = 'invalid' | 'not_found' | 'conflict';

export interface AdminFailure {
  kind: FailureKind;
  problems: string[];
}

export type AdminResult<T> = { ok: true; value: T } | { ok: false; failure: AdminFailure };

export function failure(kind: FailureKind, ...problems: string[]): AdminResult<never> {
  return { ok: false, failure: { kind, problems } };
}

/** Thrown inside a transaction only, to roll it back; `inTransaction` turns it back into data. */
class Rejection extends Error {
  constructor(readonly failure: AdminFailure) {
    super(failure.problems.join('; '));
    this.name = 'Rejection';
  }
}

export function reject(kind: FailureKind, ...problems: string[]): never {
  throw new Rejection({ kind, problems });
}

/**
 * Runs a configuration change in one transaction, after every other configuration change in
 * flight (so name lookups and inserts never race). A rejection rolls everything back.
 */
export async function inTransaction<T>(
  db: DB,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<AdminResult<T>> {
  try {
    const value = await db.transaction().execute(async (trx) => {
      await serializeConfigurationChanges(trx);
      return work(trx);
    });
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Rejection) return { ok: false, failure: error.failure };
    throw error;
  }
}

/** `base.key`, or `key` at the root. */
export function fieldPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}
