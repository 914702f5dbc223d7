import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isChanged, planCustomers, type KnownCustomer } from '../../src/domain/configuration/customer-plan.js';
import type { CustomerDeclaration } from '../../src/domain/configuration/declarations.js';

// The bulk customer upsert, planned in memory (admin API and config file), on planCustomers alone.
const PROGRAMS = new Set([1, 2]);
const ANN: KnownCustomer = { id: 1, mobile: '111', email: 'ann@example.com', externalId: null };
const BOB: KnownCustomer = { id: 2, mobile: '222', email: null, externalId: 'B-2' };

function plan(entries: CustomerDeclaration[], known: KnownCustomer[] = [ANN, BOB]) {
  const outcome = planCustomers(entries, known, PROGRAMS, 'customers');
  if (!outcome.ok) throw new Error(outcome.problems.join('; '));
  return outcome.plan;
}

function problems(entries: CustomerDeclaration[], known: KnownCustomer[] = [ANN, BOB]) {
  const outcome = planCustomers(entries, known, PROGRAMS, 'customers');
  return outcome.ok ? [] : outcome.problems;
}

describe('planCustomers', () => {
  it('creates a customer no identifier matches, enrolled where asked', () => {
    const { drafts, results } = plan([{ mobile: '333', loyaltyPrograms: [2] }]);
    expect(drafts[2]).toEqual({
      original: undefined,
      values: { mobile: '333', email: null, externalId: null },
      enrolIn: new Set([2]),
    });
    expect(results).toEqual([{ draft: 2, values: { mobile: '333', email: null, externalId: null } }]);
  });

  it('finds a stored customer by id or by any identifier, and sets the identifiers given', () => {
    const { drafts, results } = plan([
      { id: 1, externalId: 'A-1' },
      { email: 'ann@example.com', mobile: '112' },
      { externalId: 9 },
    ]);
    expect(results.map((r) => r.draft)).toEqual([0, 0, 2]);
    expect(drafts[0]!.values).toEqual({ mobile: '112', email: 'ann@example.com', externalId: 'A-1' });
    expect(results[2]!.values).toEqual({ mobile: null, email: null, externalId: '9' });
    expect(drafts.map(isChanged)).toEqual([true, false, false]);
  });

  it('answers, per entry, the identifiers right after it; a later entry finds what an earlier one set', () => {
    const { drafts, results } = plan([
      { mobile: '333' },
      { mobile: '333', email: 'new@example.com' },
      { mobile: '334', email: 'new@example.com' },
    ]);
    expect(drafts).toHaveLength(3);
    expect(results.map((r) => [r.draft, r.values.mobile, r.values.email])).toEqual([
      [2, '333', null],
      [2, '333', 'new@example.com'],
      [2, '334', 'new@example.com'],
    ]);
  });

  it('reports every problem of every entry, with its path, and plans nothing then', () => {
    expect(
      problems([{ id: 9 }, {}, { mobile: '111', externalId: 'B-2' }, { mobile: '444', loyaltyPrograms: [1, 7] }]),
    ).toEqual([
      'customers[0].id: no customer with id 9',
      'customers[1]: needs at least one of id, mobile, email, externalId',
      'customers[2]: mobile and externalId belong to different customers',
      'customers[3].loyaltyPrograms[1]: no loyalty program 7 in this org',
    ]);
  });

  it('clears identifiers first only when one moves between stored customers', () => {
    expect(plan([{ id: 1, mobile: '999' }]).mustVacate).toBe(false);
    expect(
      plan([
        { id: 1, mobile: '999' },
        { id: 2, mobile: '111' },
      ]).mustVacate,
    ).toBe(true);
  });
});

describe('planCustomers: a batch is the same upserts one after another', () => {
  // Mostly absent, so that many batches are valid; a value seldom names a customer that does not exist.
  const sometimes = <T>(values: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: values, weight: 2 });
  const entry: fc.Arbitrary<CustomerDeclaration> = fc
    .record({
      id: sometimes(fc.constantFrom(1, 2, 1, 2, 9)),
      mobile: sometimes(fc.constantFrom('111', '222', '333')),
      email: sometimes(fc.constantFrom('ann@example.com', 'new@example.com')),
      externalId: sometimes(fc.constantFrom('B-2', 'X')),
      loyaltyPrograms: sometimes(fc.subarray([1, 2, 1, 2, 7])),
    })
    .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as CustomerDeclaration);

  it('gives each entry, and the customers at the end, what single upserts in request order give', () => {
    fc.assert(
      fc.property(fc.subarray([ANN, BOB]), fc.array(entry, { maxLength: 5 }), (known, entries) => {
        const batch = planCustomers(entries, known, PROGRAMS, 'customers');
        const sequential = upsertOneByOne(entries, known);
        if (!batch.ok) {
          expect(sequential.problems).toEqual(batch.problems);
          return;
        }
        expect(sequential.problems).toEqual([]);
        expect(sequential.results).toEqual(batch.plan.results.map((r) => r.values));
        expect(sorted(sequential.customers)).toEqual(
          sorted(batch.plan.drafts.map((d) => ({ ...d.values, enrolIn: [...d.enrolIn].sort() }))),
        );
      }),
      { numRuns: 500 },
    );
  });
});

type Customer = Omit<KnownCustomer, 'id'> & { enrolIn: number[] };

/** Each entry planned alone against what the ones before it left (ids for new customers from 100). */
function upsertOneByOne(entries: CustomerDeclaration[], known: KnownCustomer[]) {
  let stored = known.map((c) => ({ ...c, enrolIn: [] as number[] }));
  let nextId = 100;
  const results: Array<Omit<KnownCustomer, 'id'>> = [];
  const problems: string[] = [];
  entries.forEach((entry, e) => {
    const outcome = planCustomers([entry], stored, PROGRAMS, 'customers');
    if (!outcome.ok) {
      problems.push(...outcome.problems.map((p) => p.replace('customers[0]', `customers[${e}]`)));
      return;
    }
    const {
      drafts,
      results: [result],
    } = outcome.plan;
    results.push(result!.values);
    stored = drafts.map((d) => {
      const before = d.original && stored.find((s) => s.id === d.original!.id);
      return {
        id: d.original?.id ?? nextId++,
        ...d.values,
        enrolIn: [...new Set([...(before?.enrolIn ?? []), ...d.enrolIn])].sort(),
      };
    });
  });
  return { results, problems, customers: stored.map(({ id: _id, ...customer }) => customer) };
}

function sorted(customers: Customer[]): Customer[] {
  return [...customers].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
