import type { Transaction } from 'kysely';
import type { DB } from '../../db/database.js';
import { findOrg } from '../../db/repositories/orgs.repository.js';
import { findTillHashes, upsertTill } from '../../db/repositories/tills.repository.js';
import type { Database } from '../../db/schema.js';
import type { TillSummary } from '../../model/org.js';
import { hashSecret, tillSecretOf, verifySecret } from '../credentials.js';
import type { TillDeclaration } from './declarations.js';
import { failure, fieldPath, inTransaction, reject, type AdminResult } from './outcome.js';

/**
 * scrypt runs before the transaction opens (inside it we await only the database). A stored
 * hash that already verifies is kept, so restarts cost one verification per till, not a new hash.
 */
export async function tillHashes(
  db: DB,
  tills: { orgId: number; till: TillDeclaration }[],
): Promise<Map<string, string>> {
  const stored = await findTillHashes(
    db,
    tills.map(({ till }) => till.username),
  );
  const entries = await Promise.all(
    tills.map(async ({ orgId, till }): Promise<[string, string]> => {
      const secret = tillSecretOf(till.password);
      const current = stored.get(till.username);
      const keep = current?.orgId === orgId && (await verifySecret(secret, current.passwordHash));
      return [till.username, keep && current ? current.passwordHash : await hashSecret(secret)];
    }),
  );
  return new Map(entries);
}

export async function saveTill(
  trx: Transaction<Database>,
  orgId: number,
  till: TillDeclaration,
  hash: string,
  path: string,
) {
  const outcome = await upsertTill(trx, orgId, { ...till, passwordHash: hash });
  if (outcome === 'taken')
    reject('conflict', `${fieldPath(path, 'username')}: "${till.username}" is a till of another org`);
}

export async function putTill(
  db: DB,
  orgId: number,
  username: string,
  body: Omit<TillDeclaration, 'username'>,
): Promise<AdminResult<TillSummary>> {
  if (!(await findOrg(db, orgId))) return failure('not_found', `No org ${orgId}`);
  const till = { ...body, username };
  const hashes = await tillHashes(db, [{ orgId, till }]);
  return inTransaction(db, async (trx) => {
    await saveTill(trx, orgId, till, hashes.get(username) ?? '', '');
    return { username, accessGroups: till.accessGroups };
  });
}
