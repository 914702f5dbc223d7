import type { DB } from '../database.js';

/** The one stored token signing key (used when OAUTH_SIGNING_KEY is not set). */

export interface StoredSigningKey {
  kid: string;
  privateKeyPem: string;
}

export async function readSigningKey(db: DB): Promise<StoredSigningKey | undefined> {
  return db.selectFrom('signing_keys').select(['kid', 'private_key_pem as privateKeyPem']).executeTakeFirst();
}

/** Inserts the key unless one is stored already: the first of several starting instances wins. */
export async function insertSigningKeyIfAbsent(db: DB, key: StoredSigningKey, createdAt: Date): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({ kid: key.kid, private_key_pem: key.privateKeyPem, created_at: createdAt })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
