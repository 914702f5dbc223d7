import type { DB } from '../../db/database.js';
import { upsertLoyaltyProgram } from '../../db/repositories/loyalty-programs.repository.js';
import { findOrg, mergeOrgConfigs, upsertOrg } from '../../db/repositories/orgs.repository.js';
import type { LoyaltyProgramSummary, OrgSummary } from '../../model/org.js';
import { isValidTimeZone } from '../dates.js';
import { failure, inTransaction, reject, type AdminResult } from './outcome.js';

/** Orgs and their loyalty programs, as the admin API writes them. */

export async function putOrg(
  db: DB,
  orgId: number,
  body: { name: string; timezone?: string; configs?: Record<string, unknown> },
  defaultTimezone: string,
): Promise<AdminResult<OrgSummary>> {
  if (body.timezone !== undefined && !isValidTimeZone(body.timezone)) {
    return failure('invalid', `timezone: "${body.timezone}" is not an IANA time zone`);
  }
  const org = await upsertOrg(db, { ...body, id: orgId, configs: body.configs ?? {}, defaultTimezone });
  return { ok: true, value: org };
}

/** JSON merge patch: a key set to null is removed. */
export async function patchOrgConfigs(
  db: DB,
  orgId: number,
  patch: Record<string, unknown>,
): Promise<AdminResult<Record<string, unknown>>> {
  const set = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== null));
  const remove = Object.keys(patch).filter((key) => patch[key] === null);
  const configs = await mergeOrgConfigs(db, orgId, set, remove);
  return configs ? { ok: true, value: configs } : failure('not_found', `No org ${orgId}`);
}

export async function putLoyaltyProgram(
  db: DB,
  orgId: number,
  loyaltyProgramId: number,
  body: { name: string; oneSupplementaryProgramAtATime?: boolean },
): Promise<AdminResult<LoyaltyProgramSummary>> {
  return inTransaction(db, async (trx) => {
    if (!(await findOrg(trx, orgId))) reject('not_found', `No org ${orgId}`);
    const saved = await upsertLoyaltyProgram(trx, orgId, { ...body, id: loyaltyProgramId });
    if (saved === 'taken')
      reject('conflict', `loyaltyProgramId: loyalty program ${loyaltyProgramId} belongs to another org`);
    return saved;
  });
}
