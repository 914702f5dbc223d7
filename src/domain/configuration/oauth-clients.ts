import type { Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../../db/database.js';
import {
  deleteOAuthClient,
  findOAuthClientHashes,
  listOAuthClients,
  upsertOAuthClient,
} from '../../db/repositories/oauth-clients.repository.js';
import { findOrg } from '../../db/repositories/orgs.repository.js';
import type { Database } from '../../db/schema.js';
import type { OAuthClientSummary } from '../../model/org.js';
import type { Clock } from '../clock.js';
import { hashSecret, verifySecret } from '../credentials.js';
import type { OAuthClientDeclaration } from './declarations.js';
import { failure, fieldPath, inTransaction, reject, type AdminResult } from './outcome.js';

/** OAuth clients, configured like tills: from the config file and through the admin API. */

/** scrypt before the transaction; a stored hash the secret still verifies against is kept. */
export async function oauthClientHashes(
  db: DB,
  clients: { orgId: number; client: OAuthClientDeclaration }[],
): Promise<Map<string, string>> {
  const stored = await findOAuthClientHashes(
    db,
    clients.map(({ client }) => client.key),
  );
  const entries = await Promise.all(
    clients.map(async ({ orgId, client }): Promise<[string, string]> => {
      const current = stored.get(client.key);
      const keep = current?.orgId === orgId && (await verifySecret(client.secret, current.secretHash));
      return [client.key, keep && current ? current.secretHash : await hashSecret(client.secret)];
    }),
  );
  return new Map(entries);
}

export async function saveOAuthClient(
  trx: Transaction<Database>,
  orgId: number,
  client: OAuthClientDeclaration,
  hash: string,
  path: string,
  now: Temporal.Instant,
): Promise<OAuthClientSummary> {
  const { key, accessGroups, tokenTtlSeconds } = client;
  const saved = await upsertOAuthClient(trx, orgId, { key, secretHash: hash, accessGroups, tokenTtlSeconds }, now);
  if (saved === 'taken') reject('conflict', `${fieldPath(path, 'key')}: "${key}" is an OAuth client of another org`);
  return saved;
}

export async function putOAuthClient(
  db: DB,
  orgId: number,
  key: string,
  body: Omit<OAuthClientDeclaration, 'key'>,
  clock: Clock,
): Promise<AdminResult<OAuthClientSummary>> {
  if (!(await findOrg(db, orgId))) return failure('not_found', `No org ${orgId}`);
  const client = { ...body, key };
  const hashes = await oauthClientHashes(db, [{ orgId, client }]);
  const now = clock.now();
  return inTransaction(db, (trx) => saveOAuthClient(trx, orgId, client, hashes.get(key) ?? '', '', now));
}

/** The org's clients, or only `key`; undefined when the org (or that client in it) does not exist. */
export async function describeOAuthClients(
  db: DB,
  orgId: number,
  key?: string,
): Promise<OAuthClientSummary[] | undefined> {
  if (!(await findOrg(db, orgId))) return undefined;
  const clients = await listOAuthClients(db, orgId, key);
  return key !== undefined && clients.length === 0 ? undefined : clients;
}

/** Deleting a client revokes every token it was issued at once: verification finds no client. */
export async function removeOAuthClient(db: DB, orgId: number, key: string): Promise<AdminResult<null>> {
  const deleted = await deleteOAuthClient(db, orgId, key);
  return deleted ? { ok: true, value: null } : failure('not_found', `No OAuth client "${key}" in org ${orgId}`);
}
