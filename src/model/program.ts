import type { Temporal } from 'temporal-polyfill';

export type ProgramType = 'EXTERNAL' | 'SUPPLEMENTARY';

export type CycleUnit = 'DAYS' | 'MONTHS';
/** A SUPPLEMENTARY program's membership period. */
export interface Cycle {
  unit: CycleUnit;
  value: number; // positive integer
}

export interface Tier {
  number: number;
  name: string;
}

/** What the rules need to know of a partner program. */
export interface PartnerProgram {
  id: number;
  name: string;
  type: ProgramType;
  loyaltyProgramId: number;
  oneSupplementaryProgramAtATime: boolean;
  active: boolean;
  expiryDate: Temporal.Instant | null;
  cycle: Cycle | null;
  tiers: Tier[];
}

/** A program whose expiry date has come, with the backup its memberships move to (if any). */
export interface ExpiringProgram {
  id: number;
  expiryDate: Temporal.Instant;
  backup: PartnerProgram | null;
}

/** A partner program as configured (the admin API's view of it): tiers by name, the backup by name. */
export interface PartnerProgramRecord {
  id: number;
  loyaltyProgramId: number;
  name: string;
  type: ProgramType;
  description: string | null;
  active: boolean;
  expiryDate: Temporal.Instant | null;
  cycle: Cycle | null;
  backupProgramName: string | null;
  expiryReminderDays: number[];
  tiers: string[];
}
