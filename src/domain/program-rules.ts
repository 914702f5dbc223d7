import type { Temporal } from 'temporal-polyfill';
import type { PartnerProgram } from '../model/program.js';
import type { EntryOutcome } from './outcomes.js';

/** SPEC §4 step 1, shared by link, update and delink: found, active, not expired. */
export function programAvailability(
  program: PartnerProgram | undefined,
  now: Temporal.Instant,
): EntryOutcome | undefined {
  if (!program) return 'PROGRAM_NOT_FOUND';
  if (!program.active) return 'PROGRAM_INACTIVE';
  if (program.expiryDate && program.expiryDate.epochMilliseconds <= now.epochMilliseconds) return 'PROGRAM_EXPIRED';
  return undefined;
}
