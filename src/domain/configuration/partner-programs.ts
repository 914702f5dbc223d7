import type { Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../../db/database.js';
import { findOrgLoyaltyProgramIds } from '../../db/repositories/loyalty-programs.repository.js';
import { findOrg } from '../../db/repositories/orgs.repository.js';
import { replaceTiers } from '../../db/repositories/partner-program-tiers.repository.js';
import {
  insertPartnerProgram,
  lockPartnerProgramByName,
  setBackupProgram,
  updatePartnerProgram,
  type PartnerProgramFields,
} from '../../db/repositories/partner-programs.repository.js';
import type { Database } from '../../db/schema.js';
import { parseApiDate } from '../dates.js';
import { checkPartnerProgram, type PartnerProgramDeclaration } from './declarations.js';
import { failure, fieldPath, inTransaction, reject, type AdminResult } from './outcome.js';
import { describePartnerPrograms, type PartnerProgramView } from './views.js';

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
    await updatePartnerProgram(trx, org.id, id, fields);
  } else {
    id = await insertPartnerProgram(trx, org.id, program.type, fields);
  }
  if (program.tiers !== undefined) {
    const outcome = await replaceTiers(trx, org.id, id, program.tiers);
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

function expiryOf(
  text: string | null | undefined,
  timezone: string,
  path: string,
): Temporal.Instant | null | undefined {
  if (text === undefined || text === null) return text;
  const instant = parseApiDate(text, timezone);
  if (!instant) reject('invalid', `${fieldPath(path, 'expiryDate')}: not an ISO-8601 date`);
  return instant;
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
  if (backupName === null) return setBackupProgram(trx, orgId, programId, null);
  const backup = await lockPartnerProgramByName(trx, orgId, backupName);
  const where = fieldPath(path, 'backupProgram');
  if (!backup) reject('invalid', `${where}: no program "${backupName}" in this org`);
  if (backup.type !== 'SUPPLEMENTARY') reject('invalid', `${where}: "${backupName}" is not a SUPPLEMENTARY program`);
  if (backup.id === programId) reject('invalid', `${where}: a program cannot be its own backup`);
  await setBackupProgram(trx, orgId, programId, backup.id);
}

export type PartnerProgramBody = Omit<PartnerProgramDeclaration, 'name'> & { name?: string; loyaltyProgramId: number };

export async function putPartnerProgram(
  db: DB,
  orgId: number,
  name: string,
  body: PartnerProgramBody,
): Promise<AdminResult<PartnerProgramView>> {
  const { loyaltyProgramId, ...rest } = body;
  if (rest.name !== undefined && rest.name.toLowerCase() !== name.toLowerCase()) {
    return failure('invalid', `name: "${rest.name}" is not the program "${name}" of the path`);
  }
  const program: PartnerProgramDeclaration = { ...rest, name: rest.name ?? name };
  const problems = checkPartnerProgram(program, '').map((problem) => problem.replace(/^\./, ''));
  if (problems.length > 0) return failure('invalid', ...problems);
  const saved = await inTransaction(db, async (trx) => {
    const org = await findOrg(trx, orgId);
    if (!org) reject('not_found', `No org ${orgId}`);
    if (!(await findOrgLoyaltyProgramIds(trx, orgId, [loyaltyProgramId])).has(loyaltyProgramId)) {
      reject('invalid', `loyaltyProgramId: no loyalty program ${loyaltyProgramId} in this org`);
    }
    const id = await savePartnerProgram(trx, org, loyaltyProgramId, program, '');
    await resolveBackupProgram(trx, orgId, id, program.backupProgram, '');
  });
  if (!saved.ok) return saved;
  const [view] = (await describePartnerPrograms(db, orgId, program.name)) ?? [];
  return view ? { ok: true, value: view } : failure('not_found', `No partner program "${program.name}"`);
}
