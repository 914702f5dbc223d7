import { sql } from 'kysely';
import type { IdentifierName, StoredCustomer } from '../../domain/customers.js';
import { isStorableText } from '../../domain/text.js';
import type { DB } from '../database.js';

const columns = { id: 'id', mobile: 'mobile', email: 'email', externalId: 'external_id' } as const;

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
      >`(select array_agg(e.loyalty_program_id) from customer_enrolments e where e.customer_id = c.id)`.as(
        'loyalty_program_ids',
      ),
    )
    .where('c.org_id', '=', orgId)
    .where(`c.${columns[name]}`, '=', value)
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

/** Names of the programs and tiers of a customer's memberships, for display. */
export async function findMembershipLabels(db: DB, orgId: number, customerId: number) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('partner_programs as p', 'p.id', 'm.partner_program_id')
    .leftJoin('partner_program_tiers as t', (join) =>
      join.onRef('t.partner_program_id', '=', 'm.partner_program_id').onRef('t.number', '=', 'm.tier_number'),
    )
    .select(['m.partner_program_id as programId', 'p.name as programName', 't.name as tierName'])
    .where('m.org_id', '=', orgId)
    .where('m.customer_id', '=', customerId)
    .execute();
}
