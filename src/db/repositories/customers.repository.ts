import { sql, type Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type {
  CustomerIdentifiers,
  CustomerRecord,
  IdentifierField,
  IdentifierName,
  IdentifierSet,
  StoredCustomer,
} from '../../model/customer.js';
import { isStorableText } from '../../model/text.js';
import type { DB } from '../database.js';
import {
  DEADLOCK_DETECTED,
  LOCK_NOT_AVAILABLE,
  LockTimeoutError,
  sqlState,
  UNIQUE_VIOLATION,
  violationOf,
} from '../errors.js';
import { fromDate, toDate } from '../instants.js';
import type { Database } from '../schema.js';

/**
 * Customers and their loyalty enrolments. A whole batch (up to 1000) is read, written and
 * enrolled with a constant number of statements, the rows passed as one jsonb array.
 */

/**
 * Finds the org's customers named by any of the identifiers and locks them, in id order so two
 * batches never deadlock. Every partner-program write takes these locks first, which serialises
 * all work on one customer across requests and instances. Waits at most `lockTimeoutMs` (unset:
 * the connection's own lock_timeout, see openDatabase), then throws LockTimeoutError.
 */
export async function lockCustomers(
  trx: Transaction<Database>,
  orgId: number,
  identifiers: IdentifierSet,
  lockTimeoutMs: number | undefined,
): Promise<StoredCustomer[]> {
  // A statement of its own (not set_config), so that Citus passes it on to the workers' sessions.
  if (lockTimeoutMs !== undefined)
    await sql.raw(`set local lock_timeout = ${Math.max(0, Math.trunc(lockTimeoutMs))}`).execute(trx);
  const { rows } = await selectForUpdate(trx, orgId, identifiers).catch((error: unknown) => {
    const state = sqlState(error);
    if (state === LOCK_NOT_AVAILABLE || state === DEADLOCK_DETECTED) throw new LockTimeoutError({ cause: error });
    throw error;
  });
  return rows.map((r) => ({
    id: r.id,
    mobile: r.mobile,
    email: r.email,
    externalId: r.external_id,
    loyaltyProgramIds: r.loyalty_program_ids.map(Number),
  }));
}

function selectForUpdate(trx: Transaction<Database>, orgId: number, identifiers: IdentifierSet) {
  return sql<{
    id: number;
    mobile: string | null;
    email: string | null;
    external_id: string | null;
    loyalty_program_ids: number[];
  }>`
    select c.id, c.mobile, c.email, c.external_id,
      coalesce((select array_agg(e.loyalty_program_id) from customer_enrolments e where e.org_id = ${orgId} and e.customer_id = c.id),
               '{}') as loyalty_program_ids
    from customers c
    where c.org_id = ${orgId}
      and (c.id = any(${identifiers.ids}::bigint[])
        or c.mobile = any(${identifiers.mobiles}::text[])
        or c.email = any(${identifiers.emails}::text[])
        or c.external_id = any(${identifiers.externalIds}::text[]))
    order by c.id
    for update of c`.execute(trx);
}

/** The org's customers holding any of these identifiers, locked until the transaction ends. */
export async function lockCustomersMatching(
  trx: Transaction<Database>,
  orgId: number,
  keys: IdentifierSet,
): Promise<CustomerIdentifiers[]> {
  const { rows } = await sql<CustomerIdentifiers>`
    select id, mobile, email, external_id as "externalId"
    from customers
    where org_id = ${orgId}
      and (id = any(${keys.ids.filter(Number.isSafeInteger)}::bigint[])
        or mobile = any(${keys.mobiles}::text[])
        or email = any(${keys.emails}::text[])
        or external_id = any(${keys.externalIds}::text[]))
    order by id
    for update`.execute(trx);
  return rows;
}

export interface CustomerChanges {
  /** Customers whose identifiers are cleared first, because another row of the batch takes one of them over. */
  vacate: number[];
  updates: CustomerIdentifiers[];
  inserts: Omit<CustomerIdentifiers, 'id'>[];
  createdAt: Temporal.Instant;
}

export type CustomerWrite =
  { ok: true; inserted: CustomerIdentifiers[] } | { ok: false; takenField: IdentifierField | undefined };

const fieldOfConstraint: Record<string, IdentifierField> = {
  customers_org_id_mobile_key: 'mobile',
  customers_org_id_email_key: 'email',
  customers_org_id_external_id_key: 'externalId',
};

const asJson = (rows: CustomerChanges['inserts']) =>
  JSON.stringify(rows.map((row) => ({ ...row, external_id: row.externalId })));

/**
 * Applies a planned batch. A unique violation can only come from a concurrent writer (the plan
 * already checked the batch against the locked rows), so it is reported, not thrown.
 */
export async function writeCustomers(
  trx: Transaction<Database>,
  orgId: number,
  changes: CustomerChanges,
): Promise<CustomerWrite> {
  try {
    if (changes.vacate.length > 0) {
      await sql`update customers set mobile = null, email = null, external_id = null
        where org_id = ${orgId} and id = any(${changes.vacate}::bigint[])`.execute(trx);
    }
    if (changes.updates.length > 0) {
      await sql`
        update customers c set mobile = v.mobile, email = v.email, external_id = v.external_id
        from jsonb_to_recordset(${asJson(changes.updates)}::jsonb) as v(id bigint, mobile text, email text, external_id text)
        where c.org_id = ${orgId} and c.id = v.id`.execute(trx);
    }
    if (changes.inserts.length === 0) return { ok: true, inserted: [] };
    const { rows } = await sql<CustomerIdentifiers>`
      insert into customers (org_id, mobile, email, external_id, created_at)
      select ${orgId}, v.mobile, v.email, v.external_id, ${toDate(changes.createdAt)}::timestamptz
      from jsonb_to_recordset(${asJson(changes.inserts)}::jsonb) as v(mobile text, email text, external_id text)
      returning id, mobile, email, external_id as "externalId"`.execute(trx);
    return { ok: true, inserted: rows };
  } catch (error) {
    const violation = violationOf(error);
    if (violation?.code !== UNIQUE_VIOLATION) throw error;
    return { ok: false, takenField: fieldOfConstraint[violation.constraint ?? ''] };
  }
}

/** Adds the enrolments that are missing; existing ones (and any not listed) stay. */
export async function enrolCustomers(
  trx: Transaction<Database>,
  orgId: number,
  enrolments: { customerId: number; loyaltyProgramId: number }[],
): Promise<void> {
  if (enrolments.length === 0) return;
  const rows = enrolments.map((e) => ({ customer_id: e.customerId, loyalty_program_id: e.loyaltyProgramId }));
  await sql`
    insert into customer_enrolments (org_id, customer_id, loyalty_program_id)
    select ${orgId}, v.customer_id, v.loyalty_program_id
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(customer_id bigint, loyalty_program_id bigint)
    on conflict do nothing`.execute(trx);
}

export async function findCustomersByIds(db: DB, orgId: number, ids: number[]): Promise<CustomerRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('customers as c')
    .select([
      'c.id',
      'c.mobile',
      'c.email',
      'c.external_id as externalId',
      'c.created_at as createdAt',
      // json, not bigint[]: pg parses int8 arrays to strings.
      sql<number[]>`coalesce((select json_agg(e.loyalty_program_id order by e.loyalty_program_id)
        from customer_enrolments e where e.org_id = ${orgId} and e.customer_id = c.id), '[]'::json)`.as(
        'loyaltyProgramIds',
      ),
    ])
    .where('c.org_id', '=', orgId)
    .where('c.id', '=', sql<number>`any(${ids}::bigint[])`)
    .orderBy('c.id')
    .execute();
  return rows.map((row) => ({ ...row, createdAt: fromDate(row.createdAt) }));
}

const columnOf = { id: 'id', mobile: 'mobile', email: 'email', externalId: 'external_id' } as const;

/** One customer of the org by one identifier, with its loyalty enrolments. */
export async function findCustomerByIdentifier(
  db: DB,
  orgId: number,
  name: IdentifierName,
  value: string | number,
): Promise<StoredCustomer | undefined> {
  // No stored identifier holds what PostgreSQL text cannot: nothing to look for.
  if (typeof value === 'string' && !isStorableText(value)) return undefined;
  const row = await db
    .selectFrom('customers as c')
    .select(['c.id', 'c.mobile', 'c.email', 'c.external_id'])
    .select(
      sql<
        number[] | null
      >`(select array_agg(e.loyalty_program_id) from customer_enrolments e where e.org_id = ${orgId} and e.customer_id = c.id)`.as(
        'loyalty_program_ids',
      ),
    )
    .where('c.org_id', '=', orgId)
    .where(`c.${columnOf[name]}`, '=', value)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    mobile: row.mobile,
    email: row.email,
    externalId: row.external_id,
    loyaltyProgramIds: (row.loyalty_program_ids ?? []).map(Number).sort((a, b) => a - b),
  };
}

export async function countCustomers(db: DB, orgId: number): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
