import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, lookup, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { activityRows } from '../support/memberships.js';
import { startTestServer, type TestServer } from '../support/server.js';

// SPEC §4's batch semantics through the real batch runner and database: a batch answers and
// leaves exactly what the same entries sent one request after another do, and an entry that
// fails leaves its neighbours' outcomes as they would be without it. Each run compares two fresh
// customers given the same history; runs are few (each is a dozen requests).
const RUNS = 20;
/** Twenty runs of a few requests each: seconds on PostgreSQL, longer on a Citus cluster of one small machine. */
const PROPERTY_TIMEOUT_MS = 120_000;
const CUSTOMERS = 250;
let server: TestServer;
let next = 1;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(CUSTOMERS), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

function freshCustomer(): string {
  if (next > CUSTOMERS) throw new Error(`the ${CUSTOMERS} declared customers are used up`);
  return mobileOf(next++);
}

type Kind = 'link' | 'update' | 'delink';
type Entry = Record<string, unknown> | null;

const endpoint = {
  link: {
    path: '/v2/partnerProgram/linkCustomer',
    items: 'linkCustomers',
    entries: 'linkToPartnerPrograms',
    status: 'partnerLinkStatus',
  },
  update: {
    path: '/v2/partnerProgram/customerPartnerProgramUpdate',
    items: 'customersPartnerUpdates',
    entries: 'partnerProgramUpdates',
    status: 'updateStatus',
  },
  delink: {
    path: '/v2/partnerProgram/deLinkCustomer',
    items: 'deLinkCustomers',
    entries: 'deLinkFromPartnerPrograms',
    status: 'partnerDeLinkStatus',
  },
} as const;

/** One request of `kind`: `items` are [mobile, entries] pairs. */
async function send(kind: Kind, items: Array<[string, Entry[]]>) {
  const { path, items: itemsKey, entries: entriesKey, status } = endpoint[kind];
  const body = { [itemsKey]: items.map(([mobile, entries]) => ({ customer: { mobile }, [entriesKey]: entries })) };
  const response = await server.request('POST', path, { body });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const answer = response.body as any;
  return {
    entries: (answer[itemsKey] as Array<Record<string, Array<Record<string, unknown>>>>).map((item) =>
      item[entriesKey]!.map((e) => e[status]),
    ),
    warnings: (answer.warnings as Array<{ code: number; partnerProgramName: string }>).map((w) => [
      w.code,
      w.partnerProgramName,
    ]),
  };
}

/** What a customer ends with: the lookup view of its programs and its recorded activities. */
async function standing(mobile: string) {
  const view = (await lookup(server, mobile)).body.linkedPartnerPrograms;
  const activities = [];
  for (const program of ['Goldstar', 'Coalition', 'SPP_1', 'SPP_2', 'SPP_SHORT']) {
    activities.push(...(await activityRows(server.database.db, mobile, program)));
  }
  return { view, activities };
}

const maybe = <T>(values: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: values, weight: 1 });
const name = fc.constantFrom('Goldstar', 'goldstar', 'Coalition', 'SPP_1', 'SPP_2', 'SPP_SHORT', 'Dormant', 'Nowhere');
const date = fc.constantFrom('2026-06-14', '2026-07-20', '2026-08-01T10:00:00Z', '2027-03-31', '31/12/2026');
const tier = fc.constantFrom('Silver', 'gold', 'Platinum', 'Bronze');
const present = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const entryOf: Record<Kind, fc.Arbitrary<Entry>> = {
  link: fc
    .record({
      name,
      id: maybe(fc.constantFrom('M-1', 'M-2')),
      tier: maybe(tier),
      expiry: maybe(date),
      start: maybe(date),
    })
    .map((e) => ({
      partnerProgramName: e.name,
      customerPartnerReference: present({
        partnerMembershipId: e.id,
        partnerTierName: e.tier,
        partnerTierExpiryDate: e.expiry,
        membershipStartDate: e.start,
      }),
    })),
  update: fc
    .record({
      name,
      type: fc.constantFrom('UPGRADE', 'DOWNGRADE', 'renew', 'UPDATE', 'MEMBERSHIP_RELINKING_CANCELLED'),
      tier: maybe(tier),
      expiry: maybe(date),
    })
    .map((e) => ({
      partnerProgramName: e.name,
      updateType: e.type,
      updateDetails: present({ updatedTierName: e.tier, updatedTierExpiryDate: e.expiry }),
    })),
  delink: name.map((partnerProgramName) => ({ partnerProgramName })),
};

/** A history to start from, sent the same to both customers: some links, maybe a relink. */
const history = fc.subarray([
  { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'G', partnerTierName: 'Gold' } },
  { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C' } },
  { partnerProgramName: 'SPP_2', customerPartnerReference: { partnerMembershipId: 'S' } },
  { partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-08-01' } },
]);

/** A batch of one kind for one customer: entries, grouped into items of that customer. */
const batch = fc.constantFrom<Kind>('link', 'update', 'delink').chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    entries: fc.array(entryOf[kind], { minLength: 1, maxLength: 5 }),
    cuts: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  }),
);

/** The entries as items of one customer, a new item after each entry whose cut is set. */
function grouped(mobile: string, entries: Entry[], cuts: boolean[]): Array<[string, Entry[]]> {
  const items: Array<[string, Entry[]]> = [[mobile, []]];
  entries.forEach((entry, i) => {
    items.at(-1)![1].push(entry);
    if (cuts[i] && i < entries.length - 1) items.push([mobile, []]);
  });
  return items;
}

async function twins(start: Entry[]): Promise<[string, string]> {
  const pair: [string, string] = [freshCustomer(), freshCustomer()];
  for (const mobile of pair) if (start.length > 0) await send('link', [[mobile, start]]);
  return pair;
}

describe('a batch through the database', () => {
  it(
    'answers and leaves what the same entries sent one request after another do',
    async () => {
      await fc.assert(
        fc.asyncProperty(history, batch, async (start, { kind, entries, cuts }) => {
          const [together, apart] = await twins(start);
          const answer = await send(kind, grouped(together, entries, cuts));
          const one = [];
          const warnings = [];
          for (const entry of entries) {
            const single = await send(kind, [[apart, [entry]]]);
            one.push(single.entries[0]![0]);
            warnings.push(...single.warnings);
          }
          expect(answer.entries.flat()).toEqual(one);
          expect(answer.warnings).toEqual(warnings);
          expect(await standing(together)).toEqual(await standing(apart));
        }),
        { numRuns: RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  const poison = fc.constantFrom<{ entry?: Entry; customer?: string }>(
    { entry: { partnerProgramName: 'Nowhere' } },
    { entry: null },
    { entry: { partnerProgramName: 42 } },
    { customer: '910000000000' },
  );

  it(
    'gives every other entry the outcome it has without the one that fails',
    async () => {
      await fc.assert(
        fc.asyncProperty(history, batch, poison, fc.nat(), async (start, { kind, entries, cuts }, bad, at) => {
          const [poisoned, clean] = await twins(start);
          const items = grouped(poisoned, entries, cuts);
          const position = at % (items.length + 1);
          const failing: [string, Entry[]] = bad.customer
            ? [bad.customer, entries.slice(0, 1)]
            : [poisoned, [bad.entry ?? null]];
          const answer = await send(kind, [...items.slice(0, position), failing, ...items.slice(position)]);
          const without = await send(kind, grouped(clean, entries, cuts));
          const failed = answer.entries.splice(position, 1)[0]!;
          expect(failed.every((status) => (status as { status: boolean }).status === false)).toBe(true);
          expect(answer.entries).toEqual(without.entries);
          expect(answer.warnings).toEqual(without.warnings);
          expect(await standing(poisoned)).toEqual(await standing(clean));
        }),
        { numRuns: RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
