import type { Transaction } from 'kysely';
import {
  insertPartnerProgram,
  lockPartnerProgramByName,
  replaceTiers,
  setBackupProgram,
  updatePartnerProgram,
  type PartnerProgramFields,
} from '../../db/repositories/partner-program-config.repository.js';
import type { Database } from '../../db/schema.js';
import { parseApiDate, toDate } from '../dates.js';
import type { PartnerProgramDeclaration } from '../declarations.js';
import { fieldPath, reject } from './outcome.js';

/**
 * Creates or updates one partner program, found by name case-insensitively within the org.
 * Fields the declaration leaves out keep their stored value (defaults on create); `null` clears
 * `expiryDate`. The backup program is resolved separately, once every program of the
 * declaration exists. Expects a declaration that passed `checkPartnerProgram`.
 */
export async function savePartnerProgram(
  trx: Transaction<Database>,
  org: { id: number; timezone: string },
  loyaltyProgramId: number,
  program: PartnerProgramDeclaration,
  path: string,
): Promise<number> {
  const existing = await lockPartnerProgramByName(trx, org.id, program.name);
  if (existing && existing.type !== program.type) {
    reject(
      'conflict',
      `${fieldPath(path, 'type')}: "${program.name}" is ${existing.type}; the type of a program cannot change`,
    );
  }
  const fields: PartnerProgramFields = {
    loyaltyProgramId,
    name: program.name,
    description: program.description === undefined ? undefined : program.description || null,
    active: program.active,
    expiryDate: expiryOf(program.expiryDate, org.timezone, path),
    cycle: program.membershipCycle,
    expiryReminderDays: program.expiryReminderDays,
  };
  let id: number;
  if (existing) {
    id = existing.id;
    await updatePartnerProgram(trx, id, fields);
  } else {
    id = await insertPartnerProgram(trx, org.id, program.type, fields);
  }
  if (program.tiers !== undefined) {
    const outcome = await replaceTiers(trx, id, program.tiers);
    if (outcome !== 'saved') {
      const { number, name } = outcome.held;
      reject(
        'conflict',
        `${fieldPath(path, 'tiers')}: tier ${number} "${name}" is held by memberships, so it can be neither removed nor renamed`,
      );
    }
  }
  return id;
}

function expiryOf(text: string | null | undefined, timezone: string, path: string): Date | null | undefined {
  if (text === undefined || text === null) return text;
  const instant = parseApiDate(text, timezone);
  if (!instant) reject('invalid', `${fieldPath(path, 'expiryDate')}: not an ISO-8601 date`);
  return toDate(instant);
}

/** `undefined` leaves the backup as it is, `null` removes it; a name must be a SUPPLEMENTARY program of the org. */
export async function resolveBackupProgram(
  trx: Transaction<Database>,
  orgId: number,
  programId: number,
  backupName: string | null | undefined,
  path: string,
): Promise<void> {
  if (backupName === undefined) return;
  if (backupName === null) return setBackupProgram(trx, programId, null);
  const backup = await lockPartnerProgramByName(trx, orgId, backupName);
  const where = fieldPath(path, 'backupProgram');
  if (!backup) reject('invalid', `${where}: no program "${backupName}" in this org`);
  if (backup.type !== 'SUPPLEMENTARY') reject('invalid', `${where}: "${backupName}" is not a SUPPLEMENTARY program`);
  if (backup.id === programId) reject('invalid', `${where}: a program cannot be its own backup`);
  await setBackupProgram(trx, programId, backup.id);
}
