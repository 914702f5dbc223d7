import type { Temporal } from 'temporal-polyfill';
import type { IdempotencyScope, StoredIdempotencyKey } from '../../model/idempotency.js';
import type { Transaction } from 'kysely';
import type { DB } from '../database.js';
import type { Database } from '../schema.js';
import { toDate } from '../instants.js';

/** Idempotency-Key claims and stored answers (SPEC §11), keyed by org, credential and key. */

export interface IdempotencyClaim {
  requestHash: string;
  token: string;
  now: Temporal.Instant;
  expiresAt: Temporal.Instant;
  /** An unanswered claim made at or before this instant is abandoned (its holder died) and may be taken over. */
  abandonedBefore: Temporal.Instant;
}

const inScope = (scope: IdempotencyScope) =>
  ({ org_id: scope.orgId, credential: scope.credential, idempotency_key: scope.key }) as const;

/**
 * Claims the key in one statement: a new key, an expired one, or an abandoned claim of the
 * same request becomes ours; anything else is left alone. True when we hold the claim.
 */
export async function claimIdempotencyKey(db: DB, scope: IdempotencyScope, claim: IdempotencyClaim): Promise<boolean> {
  const now = toDate(claim.now);
  const row = await db
    .insertInto('idempotency_keys')
    .values({
      ...inScope(scope),
      request_hash: claim.requestHash,
      claim_token: claim.token,
      claimed_at: now,
      expires_at: toDate(claim.expiresAt),
    })
    .onConflict((oc) =>
      oc
        .columns(['org_id', 'credential', 'idempotency_key'])
        .doUpdateSet({
          request_hash: (eb) => eb.ref('excluded.request_hash'),
          claim_token: (eb) => eb.ref('excluded.claim_token'),
          claimed_at: (eb) => eb.ref('excluded.claimed_at'),
          expires_at: (eb) => eb.ref('excluded.expires_at'),
          status_code: null,
          response_body: null,
        })
        .where((eb) =>
          eb.or([
            eb('idempotency_keys.expires_at', '<=', now),
            eb.and([
              eb('idempotency_keys.status_code', 'is', null),
              eb('idempotency_keys.claimed_at', '<=', toDate(claim.abandonedBefore)),
              eb('idempotency_keys.request_hash', '=', claim.requestHash),
            ]),
          ]),
        ),
    )
    .returning('claim_token')
    .executeTakeFirst();
  return row?.claim_token === claim.token;
}

export async function findIdempotencyKey(db: DB, scope: IdempotencyScope): Promise<StoredIdempotencyKey | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .select(['request_hash as requestHash', 'status_code as statusCode', 'response_body as responseBody'])
    .where('org_id', '=', scope.orgId)
    .where('credential', '=', scope.credential)
    .where('idempotency_key', '=', scope.key)
    .executeTakeFirst();
}

/** Stores the answer of the claim `token` (a claim taken over meanwhile is not overwritten). */
export async function storeIdempotentAnswer(
  db: DB | Transaction<Database>,
  scope: IdempotencyScope,
  token: string,
  answer: { statusCode: number; body: string },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: answer.statusCode, response_body: answer.body })
    .where('org_id', '=', scope.orgId)
    .where('credential', '=', scope.credential)
    .where('idempotency_key', '=', scope.key)
    .where('claim_token', '=', token)
    .execute();
}

/** Lets the key go: the request it guarded changed nothing, so a retry must run again. */
export async function releaseIdempotencyKey(db: DB, scope: IdempotencyScope, token: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('org_id', '=', scope.orgId)
    .where('credential', '=', scope.credential)
    .where('idempotency_key', '=', scope.key)
    .where('claim_token', '=', token)
    .execute();
}

/** Keys of the org past their 24 hours: nothing replays them any more. */
export async function deleteExpiredIdempotencyKeys(db: DB, orgId: number, now: Temporal.Instant): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('org_id', '=', orgId).where('expires_at', '<=', toDate(now)).execute();
}
