import type { Temporal } from 'temporal-polyfill';
import type { StoredSigningKey } from '../../model/org.js';
import type { DB } from '../database.js';
import { toDate } from '../instants.js';

/** The one stored token signing key (used when OAUTH_SIGNING_KEY is not set). */

export async function readSigningKey(db: DB): Promise<StoredSigningKey | undefined> {
  return db.selectFrom('signing_keys').select(['kid', 'private_key_pem as privateKeyPem']).executeTakeFirst();
}

/** Inserts the key unless one is stored already: the first of several starting instances wins. */
export async function insertSigningKeyIfAbsent(
  db: DB,
  key: StoredSigningKey,
  createdAt: Temporal.Instant,
): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({ kid: key.kid, private_key_pem: key.privateKeyPem, created_at: toDate(createdAt) })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
