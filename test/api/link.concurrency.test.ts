import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Concurrent requests never create two memberships for one customer x program (SPEC §4).
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

async function membershipsOf(mobiles: string[]) {
  return server.database.db
    .selectFrom('memberships')
    .innerJoin('customers', (j) =>
      j.onRef('customers.org_id', '=', 'memberships.org_id').onRef('customers.id', '=', 'memberships.customer_id'),
    )
    .select(['customers.mobile', 'memberships.partner_program_id'])
    .where('customers.mobile', 'in', mobiles)
    .execute();
}

describe('concurrent links', () => {
  it('20 simultaneous duplicates of one entry: 1 success, 19 × 2005', async () => {
    const mobile = mobileOf(1);
    const entry = { partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'race' } };
    const responses = await Promise.all(Array.from({ length: 20 }, () => link(server, [[{ mobile }, [entry]]])));
    const codes = responses.map((r) => entryCode(r.body)).sort();
    expect(codes).toEqual([200, ...Array<number>(19).fill(2005)]);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await membershipsOf([mobile])).toHaveLength(1);
  });

  it('overlapping batches in opposite orders neither deadlock nor duplicate', async () => {
    const mobiles = Array.from({ length: 30 }, (_, i) => mobileOf(10 + i));
    const entries = [
      { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'g' } },
      { partnerProgramName: 'SPP_2', customerPartnerReference: { partnerMembershipId: 's' } },
    ];
    const forward = mobiles.map((mobile) => [{ mobile }, entries] as [Record<string, unknown>, typeof entries]);
    const backward = [...forward].reverse();
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => link(server, i % 2 ? forward : backward)));
    let successes = 0;
    for (const response of responses) {
      expect([200, 201, 400]).toContain(response.status);
      for (let c = 0; c < mobiles.length; c++) {
        for (let p = 0; p < entries.length; p++) {
          const code = entryCode(response.body, c, p);
          expect([200, 2005]).toContain(code);
          if (code === 200) successes++;
        }
      }
    }
    expect(successes).toBe(mobiles.length * entries.length);
    expect(await membershipsOf(mobiles)).toHaveLength(mobiles.length * entries.length);
  });
});
