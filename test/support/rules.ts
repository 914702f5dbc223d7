import { Temporal } from 'temporal-polyfill';
import type { EntryContext, Warning } from '../../src/domain/batch/batch-runner.js';
import type { OrgContext } from '../../src/domain/caller.js';
import type { StoredCustomer } from '../../src/model/customer.js';
import type { Activity, Membership } from '../../src/model/membership.js';
import type { PartnerProgram } from '../../src/model/program.js';

// The pure rules' world, in memory: programs like those of fixtures.ts's brand org, memberships,
// and an EntryContext over a working state that later entries see, as the batch runner gives it.

export const at = (iso: string) => Temporal.Instant.from(iso);

/** 12:00 in Asia/Kolkata, as in the HTTP tests. */
export const NOW = at('2026-06-15T06:30:00Z');

export const ORG: OrgContext = { id: 100, timezone: 'Asia/Kolkata', configs: { ALLOW_MEMBERSHIP_RELINKING: true } };

export const CUSTOMER: StoredCustomer = {
  id: 7,
  mobile: '919900000007',
  email: null,
  externalId: null,
  loyaltyProgramIds: [1],
};

function program(fields: Pick<PartnerProgram, 'id' | 'name' | 'type'> & Partial<PartnerProgram>): PartnerProgram {
  return {
    loyaltyProgramId: 1,
    oneSupplementaryProgramAtATime: true,
    active: true,
    expiryDate: null,
    cycle: null,
    tiers: [],
    ...fields,
  };
}

export const PROGRAMS = {
  Goldstar: program({
    id: 1,
    name: 'Goldstar',
    type: 'EXTERNAL',
    tiers: ['Silver', 'Gold', 'Platinum'].map((name, i) => ({ number: i + 1, name })),
  }),
  Coalition: program({ id: 2, name: 'Coalition', type: 'EXTERNAL' }),
  Dormant: program({ id: 3, name: 'Dormant', type: 'EXTERNAL', active: false }),
  Bygone: program({ id: 4, name: 'Bygone', type: 'EXTERNAL', expiryDate: at('2026-01-01T00:00:00+05:30') }),
  SPP_1: program({
    id: 5,
    name: 'SPP_1',
    type: 'SUPPLEMENTARY',
    cycle: { unit: 'MONTHS', value: 12 },
    expiryDate: at('2030-12-31T23:59:59+05:30'),
  }),
  SPP_2: program({ id: 6, name: 'SPP_2', type: 'SUPPLEMENTARY', cycle: { unit: 'DAYS', value: 30 } }),
  SPP_SHORT: program({
    id: 7,
    name: 'SPP_SHORT',
    type: 'SUPPLEMENTARY',
    cycle: { unit: 'MONTHS', value: 12 },
    expiryDate: at('2026-12-31T23:59:59+05:30'),
  }),
  SPP_B: program({
    id: 8,
    name: 'SPP_B',
    type: 'SUPPLEMENTARY',
    loyaltyProgramId: 2,
    oneSupplementaryProgramAtATime: false,
    cycle: { unit: 'MONTHS', value: 1 },
  }),
} satisfies Record<string, PartnerProgram>;

export type ProgramName = keyof typeof PROGRAMS;

/** A stored membership of CUSTOMER in `program`: linked (EXTERNAL) or active since a month ago (SUPPLEMENTARY). */
export function membership(program: PartnerProgram, fields: Partial<Membership> = {}): Membership {
  const supplementary = program.type === 'SUPPLEMENTARY';
  return {
    id: 100 + program.id,
    orgId: ORG.id,
    customerId: CUSTOMER.id,
    programId: program.id,
    programType: program.type,
    loyaltyProgramId: program.loyaltyProgramId,
    cycle: program.cycle,
    partnerMembershipId: 'M-1',
    state: supplementary ? 'ACTIVE' : 'LINKED',
    tierNumber: program.tiers.length > 0 ? 1 : null,
    tierExpiry: null,
    start: at('2026-05-15T06:30:00Z'),
    end: supplementary ? at('2026-07-15T06:30:00Z') : null,
    pendingRelinkStart: null,
    ...fields,
  };
}

export interface RulesWorld {
  context: EntryContext;
  /** Every `save` the rules made, in order. */
  saves: Array<{ membership: Membership; activities: Activity[] }>;
  warnings: Warning[];
  /** The customer's memberships by program id, as they stand now. */
  state: Map<number, Membership>;
}

/** An EntryContext over `memberships` of CUSTOMER; each `save` replaces the membership that later entries see. */
export function rulesWorld(
  memberships: Membership[] = [],
  options: { org?: OrgContext; customer?: StoredCustomer; now?: Temporal.Instant } = {},
): RulesWorld {
  const state = new Map(memberships.map((m) => [m.programId, m]));
  const saves: RulesWorld['saves'] = [];
  const warnings: Warning[] = [];
  const programs = new Map(Object.values(PROGRAMS).map((p) => [p.name.toLowerCase(), p as PartnerProgram]));
  const context: EntryContext = {
    now: options.now ?? NOW,
    org: options.org ?? ORG,
    customer: options.customer ?? CUSTOMER,
    customerIndex: 0,
    program: (name) => programs.get(name.toLowerCase()),
    membership: (programId) => state.get(programId),
    memberships: () => [...state.values()],
    save: (saved, activities) => {
      state.set(saved.programId, saved);
      saves.push({ membership: saved, activities });
    },
    warn: (warning) => warnings.push({ customerIndex: 0, ...warning }),
  };
  return { context, saves, warnings, state };
}
