import { readFile } from 'node:fs/promises';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { isValidTimeZone, parseApiDate } from '../dates.js';
import {
  DeclarationsSchema,
  type CustomerDeclarationSchema,
  type CycleSchema,
  type LoyaltyProgramDeclarationSchema,
  type OAuthClientDeclarationSchema,
  type OrgDeclarationSchema,
  type PartnerProgramDeclarationSchema,
  type TillDeclarationSchema,
  type WebhookDeclarationSchema,
} from './declaration-schemas.js';
import { checkWebhook } from './webhooks.js';

/** The configuration file's declarations, typed by their schemas, and the checks no schema can say. */

export type CycleDeclaration = Static<typeof CycleSchema>;
export type PartnerProgramDeclaration = Static<typeof PartnerProgramDeclarationSchema>;
export type LoyaltyProgramDeclaration = Static<typeof LoyaltyProgramDeclarationSchema>;
export type CustomerDeclaration = Static<typeof CustomerDeclarationSchema>;
export type OrgDeclaration = Static<typeof OrgDeclarationSchema>;
export type Declarations = Static<typeof DeclarationsSchema>;
export type TillDeclaration = Static<typeof TillDeclarationSchema>;
export type OAuthClientDeclaration = Static<typeof OAuthClientDeclarationSchema>;
export type WebhookDeclaration = Static<typeof WebhookDeclarationSchema>;

export class DeclarationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid declarations:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DeclarationError';
  }
}

/** Checks `value` against `schema`; every problem is named by its path (`orgs[0].tills[1].password`). */
export function checkShape<T extends TSchema>(schema: T, value: unknown, root = ''): string[] {
  const validator = Compile(schema);
  if (validator.Check(value)) return [];
  return [...validator.Errors(value)].slice(0, 20).map((e) => `${pathOf(root, e.instancePath)}: ${e.message}`);
}

function pathOf(root: string, pointer: string): string {
  const path = pointer
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
  return (root + path).replace(/^\./, '') || '(root)';
}

/** Rules a JSON schema cannot say: cycles per type, tiers, backup programs, dates, zones. */
export function checkPartnerProgram(program: PartnerProgramDeclaration, path: string): string[] {
  const problems: string[] = [];
  if (program.type === 'SUPPLEMENTARY') {
    if (!program.membershipCycle) problems.push(`${path}.membershipCycle: required for a SUPPLEMENTARY program`);
    if (program.tiers?.length) problems.push(`${path}.tiers: a SUPPLEMENTARY program has no tiers`);
  } else {
    if (program.membershipCycle) problems.push(`${path}.membershipCycle: only SUPPLEMENTARY programs have a cycle`);
    if (program.backupProgram)
      problems.push(`${path}.backupProgram: only SUPPLEMENTARY programs have a backup program`);
    if (program.expiryReminderDays?.length) {
      problems.push(`${path}.expiryReminderDays: only SUPPLEMENTARY programs have expiry reminders`);
    }
  }
  const lowered = (program.tiers ?? []).map((t) => t.toLowerCase());
  if (new Set(lowered).size !== lowered.length)
    problems.push(`${path}.tiers: tier names must be unique (case-insensitively)`);
  if (program.backupProgram && program.backupProgram.toLowerCase() === program.name.toLowerCase()) {
    problems.push(`${path}.backupProgram: a program cannot be its own backup`);
  }
  if (program.expiryDate && parseApiDate(program.expiryDate, 'UTC') === undefined) {
    problems.push(`${path}.expiryDate: not an ISO-8601 date`);
  }
  return problems;
}

export function checkDeclarations(value: unknown): Declarations {
  const shape = checkShape(DeclarationsSchema, value);
  if (shape.length > 0) throw new DeclarationError(shape);
  const declarations = value as Declarations;
  const problems: string[] = [];
  const orgIds = new Set<number>();
  const loyaltyIds = new Set<number>();
  const usernames = new Set<string>();
  const clientKeys = new Set<string>();
  declarations.orgs.forEach((org, o) => {
    const orgPath = `orgs[${o}]`;
    if (orgIds.has(org.id)) problems.push(`${orgPath}.id: org ${org.id} is declared twice`);
    orgIds.add(org.id);
    if (org.timezone !== undefined && !isValidTimeZone(org.timezone)) {
      problems.push(`${orgPath}.timezone: "${org.timezone}" is not an IANA time zone`);
    }
    const names = new Map<string, PartnerProgramDeclaration>();
    (org.loyaltyPrograms ?? []).forEach((lp, l) => {
      if (loyaltyIds.has(lp.id))
        problems.push(`${orgPath}.loyaltyPrograms[${l}].id: loyalty program ${lp.id} is declared twice`);
      loyaltyIds.add(lp.id);
      (lp.partnerPrograms ?? []).forEach((pp, p) => {
        const path = `${orgPath}.loyaltyPrograms[${l}].partnerPrograms[${p}]`;
        problems.push(...checkPartnerProgram(pp, path));
        if (names.has(pp.name.toLowerCase())) problems.push(`${path}.name: "${pp.name}" is declared twice in this org`);
        names.set(pp.name.toLowerCase(), pp);
      });
    });
    (org.loyaltyPrograms ?? []).forEach((lp, l) =>
      (lp.partnerPrograms ?? []).forEach((pp, p) => {
        if (!pp.backupProgram) return;
        const backup = names.get(pp.backupProgram.toLowerCase());
        const path = `${orgPath}.loyaltyPrograms[${l}].partnerPrograms[${p}].backupProgram`;
        if (!backup) problems.push(`${path}: no program "${pp.backupProgram}" in this org`);
        else if (backup.type !== 'SUPPLEMENTARY') problems.push(`${path}: "${pp.backupProgram}" is not SUPPLEMENTARY`);
      }),
    );
    (org.tills ?? []).forEach((till, t) => {
      if (usernames.has(till.username))
        problems.push(`${orgPath}.tills[${t}].username: "${till.username}" is declared twice`);
      usernames.add(till.username);
    });
    (org.oauthClients ?? []).forEach((client, c) => {
      if (clientKeys.has(client.key))
        problems.push(`${orgPath}.oauthClients[${c}].key: "${client.key}" is declared twice`);
      clientKeys.add(client.key);
    });
    const webhookNames = new Set<string>();
    (org.webhooks ?? []).forEach((webhook, w) => {
      const path = `${orgPath}.webhooks[${w}]`;
      problems.push(...checkWebhook(webhook, path));
      if (webhookNames.has(webhook.name))
        problems.push(`${path}.name: "${webhook.name}" is declared twice in this org`);
      webhookNames.add(webhook.name);
    });
    (org.customers ?? []).forEach((customer, c) => {
      const path = `${orgPath}.customers[${c}]`;
      if (customer.mobile === undefined && customer.email === undefined && customer.externalId === undefined) {
        problems.push(`${path}: needs at least one of mobile, email, externalId`);
      }
      for (const id of customer.loyaltyPrograms ?? []) {
        if (!(org.loyaltyPrograms ?? []).some((lp) => lp.id === id)) {
          problems.push(`${path}.loyaltyPrograms: loyalty program ${id} is not declared in this org`);
        }
      }
    });
  });
  if (problems.length > 0) throw new DeclarationError(problems);
  return declarations;
}

export async function readDeclarationsFile(path: string): Promise<Declarations> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DeclarationError([`CONFIG_FILE ${path} cannot be read: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new DeclarationError([`CONFIG_FILE ${path} is not valid YAML: ${(error as Error).message}`]);
  }
  try {
    return checkDeclarations(value ?? { orgs: [] });
  } catch (error) {
    if (error instanceof DeclarationError) {
      throw new DeclarationError(error.problems.map((p) => `${path}: ${p}`));
    }
    throw error;
  }
}
