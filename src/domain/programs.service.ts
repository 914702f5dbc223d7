import type { DB } from '../db/database.js';
import { listLoyaltyPrograms } from '../db/repositories/loyalty-programs.repository.js';
import { listPartnerPrograms } from '../db/repositories/partner-programs.repository.js';
import type { LoyaltyProgramSummary } from '../model/org.js';
import type { PartnerProgramRecord } from '../model/program.js';
import type { Caller } from './caller.js';

/** One loyalty program of the caller's org with the partner programs that belong to it. */
export interface LoyaltyProgramListing {
  loyaltyProgram: LoyaltyProgramSummary;
  /** True for the org's lowest loyalty program id. */
  isDefault: boolean;
  /** By name, compared case-insensitively; inactive and expired programs included. */
  partnerPrograms: PartnerProgramRecord[];
}

/**
 * SPEC §7b: the org's loyalty programs by id, each with its partner programs, in two queries
 * whatever the number of programs. A partner program belongs to exactly one loyalty program, so
 * it is listed once, under that one. Partner programs are read first: each points at a loyalty
 * program that existed then, and loyalty programs are never deleted, so the second read holds
 * every one of them, without a transaction.
 */
export async function listOrgPrograms(deps: { db: DB }, caller: Caller): Promise<LoyaltyProgramListing[]> {
  const partnerPrograms = await listPartnerPrograms(deps.db, caller.org.id);
  const loyaltyPrograms = await listLoyaltyPrograms(deps.db, caller.org.id);
  const byLoyaltyProgram = new Map<number, PartnerProgramRecord[]>();
  for (const program of [...partnerPrograms].sort(byName)) {
    const list = byLoyaltyProgram.get(program.loyaltyProgramId) ?? [];
    list.push(program);
    byLoyaltyProgram.set(program.loyaltyProgramId, list);
  }
  const lowestId = Math.min(...loyaltyPrograms.map((lp) => lp.id));
  return [...loyaltyPrograms]
    .sort((a, b) => a.id - b.id)
    .map((loyaltyProgram) => ({
      loyaltyProgram,
      isDefault: loyaltyProgram.id === lowestId,
      partnerPrograms: byLoyaltyProgram.get(loyaltyProgram.id) ?? [],
    }));
}

/**
 * Names are unique per org case-insensitively, so the lower-cased names never tie. Compared by
 * code unit, not by the database's collation, so that every backend and locale lists the same order.
 */
function byName(a: PartnerProgramRecord, b: PartnerProgramRecord): number {
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}
