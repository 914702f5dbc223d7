import { mobileOf } from './bench-database.js';
import { memberMobileOf, TIERS, type LinkedMembership, type ScaleDataSet } from './scale-seed.js';
import { HTTP_PROGRAMS } from './service.js';
import { BATCH_SIZE } from './settings.js';

export const OPERATION_NAMES = ['lookup', 'history', 'update', 'link', 'delink'] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

export interface BenchRequest {
  path: string;
  body?: string;
}

/** One measured operation: how to build its next request, and how many it may still send. */
export interface Operation {
  name: OperationName;
  method: 'GET' | 'POST';
  /** Requests left before its customers run out (Infinity: it uses none up). */
  available(): number;
  next(): BenchRequest;
}

/** Reads of random seeded customers: every one has two memberships and their activities. */
function randomSeededMobile(data: ScaleDataSet): string {
  return memberMobileOf(Math.floor(Math.random() * data.seededCustomers));
}

export function lookupOperation(data: ScaleDataSet): Operation {
  return {
    name: 'lookup',
    method: 'GET',
    available: () => (data.seededCustomers > 0 ? Infinity : 0),
    next: () => ({
      path: `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${randomSeededMobile(data)}`,
    }),
  };
}

export function historyOperation(data: ScaleDataSet): Operation {
  return {
    name: 'history',
    method: 'GET',
    available: () => (data.seededCustomers > 0 ? Infinity : 0),
    next: () => ({
      path:
        '/v2/partnerProgram/customerActivityHistories?identifierName=mobile' +
        `&identifierValue=${randomSeededMobile(data)}&activityType=LINKINGUPDATES&limit=10&offset=0`,
    }),
  };
}

/** Links BATCH_SIZE fresh customers (never linked to anything) to Goldstar per request. */
export function linkOperation(data: ScaleDataSet): Operation {
  return {
    name: 'link',
    method: 'POST',
    available: () => Math.floor(data.freshLeft / BATCH_SIZE),
    next: () => {
      const first = data.takeFresh(BATCH_SIZE);
      if (first === undefined) throw new Error('out of fresh customers: the run should have been capped');
      const linkCustomers = Array.from({ length: BATCH_SIZE }, (_, offset) => ({
        customer: { mobile: mobileOf(first + offset) },
        linkToPartnerPrograms: [
          {
            partnerProgramName: HTTP_PROGRAMS[0],
            customerPartnerReference: { partnerMembershipId: `F-${first + offset}` },
          },
        ],
      }));
      return { path: '/v2/partnerProgram/linkCustomer', body: JSON.stringify({ linkCustomers }) };
    },
  };
}

/**
 * Tier changes (`UPDATE` to the other tier) of BATCH_SIZE linked memberships per request, taken
 * in turn from `pool` and reused once it is through: each use flips the tier it holds, so every
 * request really changes a tier. A membership comes back only after pool / BATCH_SIZE requests,
 * more than `connections` (the most ever in flight), so no two concurrent requests touch the same one.
 */
export function updateOperation(pool: LinkedMembership[], connections: number): Operation {
  let next = 0;
  return {
    name: 'update',
    method: 'POST',
    available: () => (pool.length >= BATCH_SIZE * (connections + 1) ? Infinity : 0),
    next: () => {
      const customersPartnerUpdates = Array.from({ length: BATCH_SIZE }, () => {
        const membership = pool[next]!;
        next = (next + 1) % pool.length;
        membership.tier = membership.tier === TIERS[0] ? TIERS[1] : TIERS[0];
        return {
          customer: { mobile: membership.mobile },
          partnerProgramUpdates: [
            {
              partnerProgramName: membership.program,
              updateType: 'UPDATE',
              updateDetails: { updatedTierName: membership.tier },
            },
          ],
        };
      });
      return {
        path: '/v2/partnerProgram/customerPartnerProgramUpdate',
        body: JSON.stringify({ customersPartnerUpdates }),
      };
    },
  };
}

/** Delinks BATCH_SIZE linked memberships per request, each from `pool` once. */
export function delinkOperation(pool: LinkedMembership[]): Operation {
  let next = 0;
  return {
    name: 'delink',
    method: 'POST',
    available: () => Math.floor((pool.length - next) / BATCH_SIZE),
    next: () => {
      const batch = pool.slice(next, next + BATCH_SIZE);
      if (batch.length < BATCH_SIZE) throw new Error('out of linked memberships: the run should have been capped');
      next += BATCH_SIZE;
      const deLinkCustomers = batch.map((m) => ({
        customer: { mobile: m.mobile },
        deLinkFromPartnerPrograms: [{ partnerProgramName: m.program }],
      }));
      return { path: '/v2/partnerProgram/deLinkCustomer', body: JSON.stringify({ deLinkCustomers }) };
    },
  };
}
