import type { Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../../db/database.js';
import { enrolCustomers, lockCustomersMatching, writeCustomers } from '../../db/repositories/customers.repository.js';
import { findOrgLoyaltyProgramIds } from '../../db/repositories/loyalty-programs.repository.js';
import { findOrg } from '../../db/repositories/orgs.repository.js';
import type { Database } from '../../db/schema.js';
import { identifierSetOf, type CustomerIdentifiers } from '../../model/customer.js';
import type { Clock } from '../clock.js';
import { isChanged, planCustomers, type Draft } from './customer-plan.js';
import type { CustomerDeclaration } from './declarations.js';
import { inTransaction, reject, type AdminResult } from './outcome.js';

/**
 * Upserts a batch of customers of one org by any of their identifiers, all or nothing: every
 * problem of every entry is reported (paths under `path`) before anything is written. Answers,
 * per entry in request order, the customer's identifiers right after that entry.
 */
export async function saveCustomers(
  trx: Transaction<Database>,
  orgId: number,
  entries: CustomerDeclaration[],
  path: string,
  now: Temporal.Instant,
): Promise<CustomerIdentifiers[]> {
  const programIds = [...new Set(entries.flatMap((e) => e.loyaltyPrograms ?? []))];
  const orgPrograms = await findOrgLoyaltyProgramIds(trx, orgId, programIds);
  const known = await lockCustomersMatching(trx, orgId, identifierSetOf(entries));
  const outcome = planCustomers(entries, known, orgPrograms, path);
  if (!outcome.ok) reject('invalid', ...outcome.problems);
  const { drafts, mustVacate, results } = outcome.plan;

  const changed = drafts.flatMap((d) => (isChanged(d) && d.original ? [{ ...d.values, id: d.original.id }] : []));
  const created = drafts.filter((d) => d.original === undefined);
  const write = await writeCustomers(trx, orgId, {
    vacate: mustVacate ? changed.map((c) => c.id) : [],
    updates: changed,
    inserts: created.map((d) => d.values),
    createdAt: now,
  });
  if (!write.ok) {
    reject('conflict', `${path}: ${write.takenField ?? 'an identifier'} was just taken by a concurrent request; retry`);
  }

  const insertedIds = new Map(write.inserted.map((row) => [keyOf(row), row.id]));
  const idOf = (draft: Draft): number => draft.original?.id ?? insertedIds.get(keyOf(draft.values))!;
  await enrolCustomers(
    trx,
    orgId,
    drafts.flatMap((d) => [...d.enrolIn].map((loyaltyProgramId) => ({ customerId: idOf(d), loyaltyProgramId }))),
  );
  return results.map(({ draft, values }) => ({ id: idOf(drafts[draft]!), ...values }));
}

/** The admin API's bulk upsert: the org must exist. */
export async function upsertCustomers(
  db: DB,
  orgId: number,
  customers: CustomerDeclaration[],
  clock: Clock,
): Promise<AdminResult<CustomerIdentifiers[]>> {
  const now = clock.now();
  return inTransaction(db, async (trx) => {
    if (!(await findOrg(trx, orgId))) reject('not_found', `No org ${orgId}`);
    return saveCustomers(trx, orgId, customers, 'customers', now);
  });
}

/** A created customer always has one identifier, unique in the org: it finds the row the insert returned. */
function keyOf(values: Omit<CustomerIdentifiers, 'id'>): string {
  if (values.mobile !== null) return `mobile:${values.mobile}`;
  if (values.email !== null) return `email:${values.email}`;
  return `externalId:${values.externalId ?? ''}`;
}
