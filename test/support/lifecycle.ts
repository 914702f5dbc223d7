import { sql } from 'kysely';
import type { DB } from '../../src/db/database.js';
import type { Declarations } from '../../src/domain/configuration/declarations.js';

export const LIFE_TILL: [string, string] = ['life.till', 'life-secret'];

/** An org whose programs exercise every time-driven rule; its loyalty program allows several SUPPLEMENTARY memberships. */
export function lifecycleDeclarations(customers = 50): Declarations {
  return {
    orgs: [
      {
        id: 300,
        name: 'Lifecycle',
        timezone: 'Asia/Kolkata',
        configs: { ALLOW_MEMBERSHIP_RELINKING: true },
        loyaltyPrograms: [
          {
            id: 30,
            name: 'Main',
            partnerPrograms: [
              {
                name: 'SUB',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'DAYS', value: 30 },
                expiryReminderDays: [7, 1],
              },
              { name: 'MONTHLY', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 1 } },
              {
                name: 'ENDING',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'DAYS', value: 30 },
                expiryDate: '2026-07-01T00:00:00+05:30',
                backupProgram: 'BACKUP',
              },
              { name: 'BACKUP', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 3 } },
              { name: 'LATER', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 10 } },
              { name: 'Partner', type: 'EXTERNAL', tiers: ['Blue', 'Black'] },
            ],
          },
        ],
        tills: [{ username: LIFE_TILL[0], password: LIFE_TILL[1], accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }],
        customers: Array.from({ length: customers }, (_, i) => ({
          mobile: `9130000${String(i + 1).padStart(5, '0')}`,
          loyaltyPrograms: [30],
        })),
      },
    ],
  };
}

export const lifeMobile = (n: number) => `9130000${String(n).padStart(5, '0')}`;

/**
 * `count` customers of org 300, each with an expired membership of `programName` whose pending
 * relink starts at `relinkStart`: due work for the scheduler, made in three statements.
 */
export async function seedDueRelinks(
  db: DB,
  count: number,
  programName: string,
  ended: string,
  relinkStart: string,
): Promise<void> {
  await sql`insert into customers (org_id, mobile, created_at)
    select 300, '9140' || lpad(n::text, 8, '0'), now() from generate_series(1, ${count}) as n`.execute(db);
  await sql`insert into customer_enrolments (org_id, customer_id, loyalty_program_id)
    select 300, id, 30 from customers where org_id = 300 and mobile like '9140%'`.execute(db);
  await sql`insert into memberships (org_id, customer_id, partner_program_id, program_type, partner_membership_id, state,
      start_at, end_at, pending_relink_start_at, created_at, updated_at)
    select 300, c.id, p.id, 'SUPPLEMENTARY', 'M' || c.id, 'EXPIRED',
      ${ended}::timestamptz - interval '30 days', ${ended}::timestamptz, ${relinkStart}::timestamptz, now(), now()
    from customers c join partner_programs p on p.org_id = c.org_id
    where c.org_id = 300 and c.mobile like '9140%' and p.name = ${programName}`.execute(db);
}

/** Activities of one customer's membership in one program, oldest first. */
export async function activitiesOf(db: DB, mobile: string, programName: string) {
  const rows = await db
    .selectFrom('membership_activities as a')
    .innerJoin('memberships as m', (j) => j.onRef('m.org_id', '=', 'a.org_id').onRef('m.id', '=', 'a.membership_id'))
    .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
    .innerJoin('partner_programs as p', (j) =>
      j.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .select(['a.activity_type', 'a.occurred_at', 'a.source'])
    .where('c.mobile', '=', mobile)
    .where('p.name', '=', programName)
    .orderBy('a.occurred_at')
    .orderBy('a.id')
    .execute();
  return rows.map((r) => [r.activity_type, r.occurred_at.toISOString(), r.source]);
}

/** The stored row of one customer's membership in one program. */
export async function storedMembership(db: DB, mobile: string, programName: string) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
    .innerJoin('partner_programs as p', (j) =>
      j.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .select(['m.state', 'm.start_at', 'm.end_at', 'm.pending_relink_start_at', 'm.partner_membership_id'])
    .where('c.mobile', '=', mobile)
    .where('p.name', '=', programName)
    .executeTakeFirst();
}
