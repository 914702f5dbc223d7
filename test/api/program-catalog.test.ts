import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { startSecondServer, startTestServer, type TestServer } from '../support/server.js';

// Each instance caches the programs requests name, per configuration version: a change made
// through another instance must be seen by the very next request here (SPEC §4's rules always
// read the configuration as it stands).
let first: TestServer;
let second: TestServer;

beforeAll(async () => {
  first = await startTestServer({ declarations: brandDeclarations(40), now: NOW, defaultAuth: TILL });
  second = await startSecondServer(first);
});
afterAll(async () => {
  await second.close();
  await first.close();
});

const putProgram = (name: string, body: unknown) =>
  second.request('PUT', `/admin/v1/orgs/100/partnerPrograms/${name}`, { body, admin: true });

const linkTo = (customer: number, program: string, tier?: string) =>
  link(first, [
    [
      { mobile: mobileOf(customer) },
      [
        {
          partnerProgramName: program,
          customerPartnerReference: {
            partnerMembershipId: `M-${customer}`,
            ...(tier ? { partnerTierName: tier } : {}),
          },
        },
      ],
    ],
  ]);

describe('program facts cached per configuration version', () => {
  it("sees a tier another instance added, at the next request after it had cached the program's tiers", async () => {
    expect(entryCode((await linkTo(1, 'Goldstar', 'Silver')).body)).toBe(200);
    expect(entryCode((await linkTo(2, 'Goldstar', 'Diamond')).body)).toBe(2007);

    const changed = await putProgram('Goldstar', {
      type: 'EXTERNAL',
      loyaltyProgramId: 1,
      tiers: ['Silver', 'Gold', 'Platinum', 'Diamond'],
    });
    expect(changed.status).toBe(200);

    expect(entryCode((await linkTo(2, 'Goldstar', 'Diamond')).body)).toBe(200);
  });

  it('sees a program another instance created under a name it had found nothing for', async () => {
    expect(entryCode((await linkTo(3, 'Newcomer')).body)).toBe(2006);

    const created = await putProgram('Newcomer', { type: 'EXTERNAL', loyaltyProgramId: 1 });
    expect(created.status).toBe(200);

    expect(entryCode((await linkTo(3, 'Newcomer')).body)).toBe(200);
  });

  it('sees a program another instance deactivated', async () => {
    expect(entryCode((await linkTo(4, 'Coalition')).body)).toBe(200);
    expect((await putProgram('Coalition', { type: 'EXTERNAL', loyaltyProgramId: 1, active: false })).status).toBe(200);
    expect(entryCode((await linkTo(5, 'Coalition')).body)).not.toBe(200);
  });
});
