import { BATCH_SIZE } from './settings.js';
import { mobileOf } from './bench-database.js';

/** One batch to link: BATCH_SIZE consecutive seeded customers, from `first`, to one program. */
export interface LinkSlot<Program> {
  program: Program;
  first: number;
}

/**
 * Hands out every (program, run of BATCH_SIZE customers) pair at most once, so each batch links
 * customers that were never linked to its program: the bench measures real inserts, never
 * ALREADY_LINKED rejections. Programs are used one after another, each across all customers,
 * which multiplies what 100,000 seeded customers can carry.
 */
export class LinkSlots<Program> {
  private taken = 0;
  private readonly batchesPerProgram: number;

  constructor(
    private readonly programs: readonly Program[],
    customers: number,
  ) {
    this.batchesPerProgram = Math.floor(customers / BATCH_SIZE);
  }

  get remaining(): number {
    return this.programs.length * this.batchesPerProgram - this.taken;
  }

  /** An equal share of what is left for each level still to run, so no level starves. */
  shareFor(levelsLeft: number): number {
    return Math.floor(this.remaining / levelsLeft);
  }

  take(): LinkSlot<Program> {
    if (this.remaining === 0) throw new Error('out of link slots: the level should have been capped');
    const program = this.programs[Math.floor(this.taken / this.batchesPerProgram)]!;
    const first = (this.taken % this.batchesPerProgram) * BATCH_SIZE;
    this.taken += 1;
    return { program, first };
  }
}

/** The JSON body linking the slot's customers (by mobile) to its program. */
export function linkRequestBody({ program, first }: LinkSlot<string>): string {
  const linkCustomers = Array.from({ length: BATCH_SIZE }, (_, offset) => ({
    customer: { mobile: mobileOf(first + offset) },
    linkToPartnerPrograms: [
      { partnerProgramName: program, customerPartnerReference: { partnerMembershipId: `M-${first + offset}` } },
    ],
  }));
  return JSON.stringify({ linkCustomers });
}
