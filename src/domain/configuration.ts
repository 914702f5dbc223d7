import type { Transaction } from 'kysely';
import type { DB } from '../db/database.js';
import {
  findOrg,
  findOrgLoyaltyProgramIds,
  mergeOrgConfigs,
  upsertLoyaltyProgram,
  upsertOrg,
  type LoyaltyProgramRow,
  type OrgRow,
} from '../db/repositories/configuration.repository.js';
import type { CustomerIdentifiers } from '../db/repositories/customers.repository.js';
import type { Database } from '../db/schema.js';
import { saveCustomers } from './admin/customer-upsert.js';
import { oauthClientHashes, saveOAuthClient } from './admin/oauth-clients.js';
import { failure, inTransaction, reject, type AdminResult } from './admin/outcome.js';
import { resolveBackupProgram, savePartnerProgram } from './admin/partner-program-config.js';
import { saveTill, tillHashes } from './admin/tills.js';
import { describePartnerPrograms, type PartnerProgramView } from './admin/views.js';
import type { Clock } from './clock.js';
import { isValidTimeZone, toDate } from './dates.js';
import {
  checkPartnerProgram,
  DeclarationError,
  type CustomerDeclaration,
  type Declarations,
  type OrgDeclaration,
  type PartnerProgramDeclaration,
} from './declarations.js';

/**
 * Configuration use cases: the config file applied at start, and the admin API's writes. Both
 * create or update and never delete. A field left out keeps its stored value (its default on
 * create); configs merge key by key.
 */

export interface ApplyOptions {
  defaultTimezone: string;
  clock: Clock;
}

/** Secret hashes by till username and by OAuth client key, computed before the transaction. */
interface Hashes {
  tills: Map<string, string>;
  clients: Map<string, string>;
}

/** Applies checked declarations in one transaction; idempotent, so every start may re-apply the file. */
export async function applyDeclarations(db: DB, declarations: Declarations, options: ApplyOptions): Promise<void> {
  const hashes: Hashes = {
    tills: await tillHashes(
      db,
      declarations.orgs.flatMap((org) => (org.tills ?? []).map((till) => ({ orgId: org.id, till }))),
    ),
    clients: await oauthClientHashes(
      db,
      declarations.orgs.flatMap((org) => (org.oauthClients ?? []).map((client) => ({ orgId: org.id, client }))),
    ),
  };
  const now = toDate(options.clock.now());
  const result = await inTransaction(db, async (trx) => {
    for (const [o, org] of declarations.orgs.entries()) await applyOrg(trx, org, `orgs[${o}]`, hashes, options, now);
  });
  if (!result.ok) throw new DeclarationError(result.failure.problems);
}

async function applyOrg(
  trx: Transaction<Database>,
  org: OrgDeclaration,
  path: string,
  hashes: Hashes,
  options: ApplyOptions,
  now: Date,
): Promise<void> {
  const { timezone } = await upsertOrg(trx, {
    ...org,
    configs: org.configs ?? {},
    defaultTimezone: options.defaultTimezone,
  });
  const saved: { id: number; program: PartnerProgramDeclaration; path: string }[] = [];
  for (const [l, loyaltyProgram] of (org.loyaltyPrograms ?? []).entries()) {
    const at = `${path}.loyaltyPrograms[${l}]`;
    if ((await upsertLoyaltyProgram(trx, org.id, loyaltyProgram)) === 'taken') {
      reject('conflict', `${at}.id: loyalty program ${loyaltyProgram.id} belongs to another org`);
    }
    for (const [p, program] of (loyaltyProgram.partnerPrograms ?? []).entries()) {
      const programPath = `${at}.partnerPrograms[${p}]`;
      const id = await savePartnerProgram(trx, { id: org.id, timezone }, loyaltyProgram.id, program, programPath);
      saved.push({ id, program, path: programPath });
    }
  }
  for (const { id, program, path: programPath } of saved) {
    await resolveBackupProgram(trx, org.id, id, program.backupProgram, programPath);
  }
  for (const [t, till] of (org.tills ?? []).entries()) {
    await saveTill(trx, org.id, till, hashes.tills.get(till.username) ?? '', `${path}.tills[${t}]`);
  }
  for (const [c, client] of (org.oauthClients ?? []).entries()) {
    await saveOAuthClient(trx, org.id, client, hashes.clients.get(client.key) ?? '', `${path}.oauthClients[${c}]`, now);
  }
  if (org.customers?.length) await saveCustomers(trx, org.id, org.customers, `${path}.customers`, now);
}

export async function putOrg(
  db: DB,
  orgId: number,
  body: { name: string; timezone?: string; configs?: Record<string, unknown> },
  defaultTimezone: string,
): Promise<AdminResult<OrgRow>> {
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
): Promise<AdminResult<LoyaltyProgramRow>> {
  return inTransaction(db, async (trx) => {
    if (!(await findOrg(trx, orgId))) reject('not_found', `No org ${orgId}`);
    const saved = await upsertLoyaltyProgram(trx, orgId, { ...body, id: loyaltyProgramId });
    if (saved === 'taken')
      reject('conflict', `loyaltyProgramId: loyalty program ${loyaltyProgramId} belongs to another org`);
    return saved;
  });
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

export async function upsertCustomers(
  db: DB,
  orgId: number,
  customers: CustomerDeclaration[],
  clock: Clock,
): Promise<AdminResult<CustomerIdentifiers[]>> {
  const now = toDate(clock.now());
  return inTransaction(db, async (trx) => {
    if (!(await findOrg(trx, orgId))) reject('not_found', `No org ${orgId}`);
    return saveCustomers(trx, orgId, customers, 'customers', now);
  });
}
