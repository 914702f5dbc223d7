import { describe, expect, it } from 'vitest';
import { indexCustomers, resolveCustomer } from '../../src/domain/customers.js';
import { parseCustomer } from '../../src/http/batch/customer.js';
import type { StoredCustomer } from '../../src/model/customer.js';

const priya: StoredCustomer = {
  id: 101,
  mobile: '919400000001',
  email: 'priya@example.com',
  externalId: 'X1',
  loyaltyProgramIds: [1],
};
const arjun: StoredCustomer = {
  id: 102,
  mobile: '917800048833',
  email: null,
  externalId: 'X2',
  loyaltyProgramIds: [1],
};
const index = indexCustomers([priya, arjun]);

function resolve(raw: unknown) {
  const parsed = parseCustomer(raw);
  if (!parsed.ok) return parsed.outcome;
  const resolution = resolveCustomer(parsed, index);
  return resolution.ok ? resolution.customer.id : resolution.outcome;
}

describe('parseCustomer', () => {
  it('treats empty strings and nulls as absent', () => {
    expect(parseCustomer({ mobile: '', email: null, externalId: undefined })).toMatchObject({
      ok: false,
      outcome: 'NO_IDENTIFIER',
    });
  });

  it('accepts integers as identifiers and compares them as strings', () => {
    expect(parseCustomer({ mobile: 919400000001 })).toMatchObject({ ok: true, query: { mobile: '919400000001' } });
  });

  it.each([
    [{ id: 'abc' }],
    [{ id: -4 }],
    [{ id: 0 }],
    [{ id: '0' }],
    [{ id: 1.5 }],
    [{ mobile: true }],
    [{ email: {} }],
    [{ externalId: [] }],
  ])('finds no usable identifier in %j', (raw) => {
    expect(parseCustomer(raw)).toMatchObject({ ok: false, outcome: 'INVALID_IDENTIFIER' });
  });

  it.each([[null], ['919400000001'], [[1]], [7]])('rejects a customer part that is not an object: %j', (raw) => {
    expect(parseCustomer(raw)).toMatchObject({ ok: false, outcome: 'NO_IDENTIFIER', echo: {} });
  });

  it('keeps usable identifiers beside an unusable one', () => {
    expect(parseCustomer({ id: 'abc', mobile: '1' })).toMatchObject({ ok: true, query: { mobile: '1' } });
  });

  it('marks values no stored identifier can equal as unmatchable', () => {
    expect(parseCustomer({ id: '99999999999999999999' })).toMatchObject({ ok: true, unmatchable: true });
    expect(parseCustomer({ mobile: 'a\u0000b' })).toMatchObject({ ok: true, unmatchable: true });
    expect(parseCustomer({ mobile: 'x'.repeat(256) })).toMatchObject({ ok: true, unmatchable: true });
  });
});

describe('resolveCustomer', () => {
  it('finds a customer by any one identifier', () => {
    expect(resolve({ id: 101 })).toBe(101);
    expect(resolve({ id: '102' })).toBe(102);
    expect(resolve({ mobile: '919400000001' })).toBe(101);
    expect(resolve({ email: 'priya@example.com' })).toBe(101);
    expect(resolve({ externalId: 'X2' })).toBe(102);
  });

  it('needs every identifier given to name the same customer', () => {
    expect(resolve({ mobile: '919400000001', externalId: 'X1', id: 101 })).toBe(101);
    expect(resolve({ mobile: '919400000001', externalId: 'X2' })).toBe('IDENTIFIERS_DISAGREE');
    expect(resolve({ mobile: '919400000001', email: 'unknown@example.com' })).toBe('IDENTIFIERS_DISAGREE');
  });

  it('reports not found when nothing matches', () => {
    expect(resolve({ mobile: '1' })).toBe('NOT_FOUND');
    expect(resolve({ id: 999 })).toBe('NOT_FOUND');
    expect(resolve({ id: '99999999999999999999' })).toBe('NOT_FOUND');
  });

  it('is case-sensitive, as identifiers are stored', () => {
    expect(resolve({ email: 'PRIYA@example.com' })).toBe('NOT_FOUND');
  });
});
