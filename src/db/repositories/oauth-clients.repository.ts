import { sql } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { OAuthClientCredential, OAuthClientSummary } from '../../model/org.js';
import type { DB } from '../database.js';
import { fromDate, toDate } from '../instants.js';

/** OAuth clients: the token endpoint's and the authenticator's reads, the configuration's writes. */

export async function findOAuthClient(db: DB, key: string): Promise<OAuthClientCredential | undefined> {
  const row = await db
    .selectFrom('oauth_clients')
    .innerJoin('orgs', 'orgs.id', 'oauth_clients.org_id')
    .crossJoin('configuration_version')
    .select([
      'configuration_version.version as configurationVersion',
      'oauth_clients.id as clientId',
      'oauth_clients.client_key as key',
      'oauth_clients.secret_hash as secretHash',
      'oauth_clients.access_groups as accessGroups',
      'oauth_clients.token_ttl_seconds as tokenTtlSeconds',
      'oauth_clients.secret_changed_at as secretChangedAt',
      'orgs.id as orgId',
      'orgs.timezone as orgTimezone',
      'orgs.configs as orgConfigs',
    ])
    .where('oauth_clients.client_key', '=', key)
    .where('configuration_version.id', '=', true)
    .executeTakeFirst();
  return row && { ...row, secretChangedAt: fromDate(row.secretChangedAt) };
}

/** The stored hashes of these keys, wherever they belong, so unchanged secrets are not re-hashed. */
export async function findOAuthClientHashes(
  db: DB,
  keys: string[],
): Promise<Map<string, { orgId: number; secretHash: string }>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('oauth_clients')
    .select(['client_key', 'org_id', 'secret_hash'])
    .where('client_key', '=', sql<string>`any(${keys}::text[])`)
    .execute();
  return new Map(rows.map((row) => [row.client_key, { orgId: row.org_id, secretHash: row.secret_hash }]));
}

/**
 * Keys are unique across the service: one held by another org's client is 'taken'. A left-out
 * TTL keeps the stored one (the column default on create). `secret_changed_at` moves only when
 * the hash changes, which revokes the tokens issued before.
 */
export async function upsertOAuthClient(
  db: DB,
  orgId: number,
  client: { key: string; secretHash: string; accessGroups: string[]; tokenTtlSeconds: number | undefined },
  now: Temporal.Instant,
): Promise<OAuthClientSummary | 'taken'> {
  const row = await db
    .insertInto('oauth_clients')
    .values({
      org_id: orgId,
      client_key: client.key,
      secret_hash: client.secretHash,
      access_groups: client.accessGroups,
      token_ttl_seconds: client.tokenTtlSeconds,
      secret_changed_at: toDate(now),
    })
    .onConflict((oc) =>
      oc
        .column('client_key')
        .doUpdateSet({
          secret_hash: (eb) => eb.ref('excluded.secret_hash'),
          access_groups: (eb) => eb.ref('excluded.access_groups'),
          token_ttl_seconds: sql<number>`coalesce(${client.tokenTtlSeconds ?? null}::integer, oauth_clients.token_ttl_seconds)`,
          secret_changed_at: sql<Date>`case when oauth_clients.secret_hash = excluded.secret_hash
            then oauth_clients.secret_changed_at else excluded.secret_changed_at end`,
        })
        .where('oauth_clients.org_id', '=', orgId),
    )
    .returning(['client_key as key', 'access_groups as accessGroups', 'token_ttl_seconds as tokenTtlSeconds'])
    .executeTakeFirst();
  return row ?? 'taken';
}

/** The org's clients (or only the one keyed `key`), never their secrets. */
export async function listOAuthClients(db: DB, orgId: number, key?: string): Promise<OAuthClientSummary[]> {
  let query = db
    .selectFrom('oauth_clients')
    .select(['client_key as key', 'access_groups as accessGroups', 'token_ttl_seconds as tokenTtlSeconds'])
    .where('org_id', '=', orgId);
  if (key !== undefined) query = query.where('client_key', '=', key);
  return query.orderBy('client_key').execute();
}

/** Deletes the org's client `key`; false when the org has no such client. */
export async function deleteOAuthClient(db: DB, orgId: number, key: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('oauth_clients')
    .where('org_id', '=', orgId)
    .where('client_key', '=', key)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}
