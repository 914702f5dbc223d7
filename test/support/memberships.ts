import type { DB } from '../../src/db/database.js';
import { lookup } from './fixtures.js';
import type { TestServer } from './server.js';

/** The customer's membership in `program` as the lookup API shows it (undefined when not linked). */
export async function membershipOf(server: TestServer, mobile: string, program: string) {
  const response = await lookup(server, mobile);
  return response.body.linkedPartnerPrograms.find(
    (p: { partnerProgramName: string }) => p.partnerProgramName === program,
  );
}

/** The activities of a customer of org 100 in `program`, in the order they were recorded. */
export function activityRows(db: DB, mobile: string, program: string) {
  return db
    .selectFrom('membership_activities as a')
    .innerJoin('memberships as m', (j) => j.onRef('m.org_id', '=', 'a.org_id').onRef('m.id', '=', 'a.membership_id'))
    .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
    .innerJoin('partner_programs as p', (j) =>
      j.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .select(['a.activity_type', 'a.source', 'a.details'])
    .where('c.org_id', '=', 100)
    .where('c.mobile', '=', mobile)
    .where('p.name', '=', program)
    .orderBy('a.id')
    .execute();
}
