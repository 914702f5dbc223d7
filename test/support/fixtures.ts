import type { Declarations } from '../../src/domain/configuration/declarations.js';
import type { TestServer } from './server.js';

/** 12:00 in Asia/Kolkata: the clock every link test starts at unless it says otherwise. */
export const NOW = '2026-06-15T06:30:00Z';

export const TILL: [string, string] = ['brand.till', 'till-secret'];
export const HISTORY_ONLY_TILL: [string, string] = ['history.till', 'history-secret'];
export const OTHER_ORG_TILL: [string, string] = ['other.till', 'other-secret'];

/** Customers numbered from `from`: mobile 9199000xxxxx, enrolled in loyalty program 1. */
export function customers(count: number, from = 1, loyaltyPrograms = [1]) {
  return Array.from({ length: count }, (_, i) => {
    const n = String(from + i).padStart(5, '0');
    return { mobile: `9199000${n}`, email: `c${n}@example.com`, externalId: `EXT${n}`, loyaltyPrograms };
  });
}

export function mobileOf(n: number): string {
  return `9199000${String(n).padStart(5, '0')}`;
}

export function brandDeclarations(extraCustomers = 200): Declarations {
  return {
    orgs: [
      {
        id: 100,
        name: 'Brand',
        timezone: 'Asia/Kolkata',
        configs: { ALLOW_MEMBERSHIP_RELINKING: true },
        loyaltyPrograms: [
          {
            id: 1,
            name: 'Main',
            oneSupplementaryProgramAtATime: true,
            partnerPrograms: [
              { name: 'Goldstar', type: 'EXTERNAL', tiers: ['Silver', 'Gold', 'Platinum'] },
              { name: 'Coalition', type: 'EXTERNAL' },
              { name: 'Dormant', type: 'EXTERNAL', active: false },
              { name: 'Bygone', type: 'EXTERNAL', expiryDate: '2026-01-01T00:00:00+05:30' },
              {
                name: 'SPP_1',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'MONTHS', value: 12 },
                expiryDate: '2030-12-31T23:59:59+05:30',
              },
              { name: 'SPP_2', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 30 } },
              {
                name: 'SPP_SHORT',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'MONTHS', value: 12 },
                expiryDate: '2026-12-31T23:59:59+05:30',
              },
            ],
          },
          {
            id: 2,
            name: 'Second',
            partnerPrograms: [
              { name: 'SPP_B', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 1 } },
              { name: 'SPP_C', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 1 } },
            ],
          },
        ],
        tills: [
          { username: TILL[0], password: TILL[1], accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] },
          { username: HISTORY_ONLY_TILL[0], password: HISTORY_ONLY_TILL[1], accessGroups: ['PARTNER_PROGRAM'] },
        ],
        customers: [
          ...customers(extraCustomers),
          { mobile: '919800000001', externalId: 'NOT-ENROLLED' },
          { mobile: '919800000002', email: 'both@example.com', loyaltyPrograms: [1, 2] },
          { mobile: '919800000003', loyaltyPrograms: [1, 2] },
        ],
      },
      {
        id: 200,
        name: 'Other brand',
        timezone: 'America/New_York',
        loyaltyPrograms: [
          {
            id: 20,
            name: 'Other main',
            partnerPrograms: [
              {
                name: 'SPP_1',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'DAYS', value: 10 },
              },
              { name: 'OtherOnly', type: 'EXTERNAL' },
            ],
          },
        ],
        tills: [{ username: OTHER_ORG_TILL[0], password: OTHER_ORG_TILL[1], accessGroups: ['DEFAULT'] }],
        customers: [{ mobile: mobileOf(1), email: 'other@example.com', loyaltyPrograms: [20] }],
      },
    ],
  };
}

export interface ProgramEntry {
  partnerProgramName?: unknown;
  customerPartnerReference?: Record<string, unknown>;
}

/** POST linkCustomer with `[customer, programs]` pairs. */
export function link(
  server: TestServer,
  items: Array<[Record<string, unknown>, ProgramEntry[]]>,
  headers?: Record<string, string>,
) {
  return server.request('POST', '/v2/partnerProgram/linkCustomer', {
    body: { linkCustomers: items.map(([customer, programs]) => ({ customer, linkToPartnerPrograms: programs })) },
    headers,
  });
}

/** The code of program entry `p` of customer item `c`. */
export function entryCode(
  body: { linkCustomers: Array<{ linkToPartnerPrograms: Array<{ partnerLinkStatus: { code: number } }> }> },
  c = 0,
  p = 0,
) {
  return body.linkCustomers[c]!.linkToPartnerPrograms[p]!.partnerLinkStatus.code;
}

export function lookup(server: TestServer, mobile: string) {
  return server.request('GET', `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${mobile}`);
}
