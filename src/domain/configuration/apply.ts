import type { Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../../db/database.js';
import { upsertLoyaltyProgram } from '../../db/repositories/loyalty-programs.repository.js';
import { upsertOrg } from '../../db/repositories/orgs.repository.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../secrets.js';
import { saveCustomers } from './customers.js';
import {
  DeclarationError,
  type Declarations,
  type OrgDeclaration,
  type PartnerProgramDeclaration,
} from './declarations.js';
import { oauthClientHashes, saveOAuthClient } from './oauth-clients.js';
import { inTransaction, reject } from './outcome.js';
import { resolveBackupProgram, savePartnerProgram } from './partner-programs.js';
import { saveTill, tillHashes } from './tills.js';
import { saveWebhook } from './webhooks.js';

/**
 * The config file applied at start. Like the admin API's writes, it creates or updates and never
 * deletes. A field left out keeps its stored value (its default on create); configs merge key by key.
 */

export interface ApplyOptions {
  defaultTimezone: string;
  clock: Clock;
  /** Seals the secrets and headers of `webhooks:`; needed only when an org declares some. */
  secrets?: SecretBox;
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
  const now = options.clock.now();
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
  now: Temporal.Instant,
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
  for (const [w, webhook] of (org.webhooks ?? []).entries()) {
    if (!options.secrets) reject('invalid', `${path}.webhooks[${w}]: webhooks need the secrets key (SECRETS_KEY)`);
    await saveWebhook(trx, options.secrets, org.id, webhook, now);
  }
}
