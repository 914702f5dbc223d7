import type { DB } from '../../db/database.js';
import { countCustomers, findCustomersByIds } from '../../db/repositories/customers.repository.js';
import { listLoyaltyPrograms } from '../../db/repositories/loyalty-programs.repository.js';
import { listOAuthClients } from '../../db/repositories/oauth-clients.repository.js';
import { findOrg, listOrgs } from '../../db/repositories/orgs.repository.js';
import { listPartnerPrograms } from '../../db/repositories/partner-programs.repository.js';
import { listTills } from '../../db/repositories/tills.repository.js';
import type { CustomerIdentifiers } from '../../model/customer.js';
import type { OAuthClientSummary, OrgSummary, TillSummary } from '../../model/org.js';
import type { PartnerProgramRecord } from '../../model/program.js';
import { formatInZone } from '../dates.js';

/** What the admin API shows of the configuration: the config file's shape, plus ids; never a password or secret. */

export interface PartnerProgramView {
  id: number;
  loyaltyProgramId: number;
  name: string;
  type: 'EXTERNAL' | 'SUPPLEMENTARY';
  description: string | null;
  active: boolean;
  tiers: string[];
  membershipCycle: { unit: 'DAYS' | 'MONTHS'; value: number } | null;
  expiryDate: string | null;
  backupProgram: string | null;
  expiryReminderDays: number[];
}

export interface LoyaltyProgramView {
  id: number;
  name: string;
  oneSupplementaryProgramAtATime: boolean;
  partnerPrograms: PartnerProgramView[];
}

export interface OrgView extends OrgSummary {
  loyaltyPrograms: LoyaltyProgramView[];
  tills: TillSummary[];
  oauthClients: OAuthClientSummary[];
  customerCount: number;
}

export interface CustomerView extends CustomerIdentifiers {
  loyaltyProgramIds: number[];
  createdAt: string;
}

export function partnerProgramView(row: PartnerProgramRecord, timezone: string): PartnerProgramView {
  return {
    id: row.id,
    loyaltyProgramId: row.loyaltyProgramId,
    name: row.name,
    type: row.type,
    description: row.description,
    active: row.active,
    tiers: row.tiers,
    membershipCycle: row.cycle,
    expiryDate: row.expiryDate ? formatInZone(row.expiryDate, timezone) : null,
    backupProgram: row.backupProgramName,
    expiryReminderDays: row.expiryReminderDays,
  };
}

export async function listOrgSummaries(db: DB): Promise<OrgSummary[]> {
  return listOrgs(db);
}

export async function describeOrg(db: DB, orgId: number): Promise<OrgView | undefined> {
  const org = await findOrg(db, orgId);
  if (!org) return undefined;
  const loyaltyPrograms = await listLoyaltyPrograms(db, orgId);
  const partnerPrograms = await listPartnerPrograms(db, orgId);
  return {
    ...org,
    loyaltyPrograms: loyaltyPrograms.map((lp) => ({
      ...lp,
      partnerPrograms: partnerPrograms
        .filter((pp) => pp.loyaltyProgramId === lp.id)
        .map((pp) => partnerProgramView(pp, org.timezone)),
    })),
    tills: await listTills(db, orgId),
    oauthClients: await listOAuthClients(db, orgId),
    customerCount: await countCustomers(db, orgId),
  };
}

/** The org's partner programs (or only the one named `name`); undefined when the org does not exist. */
export async function describePartnerPrograms(
  db: DB,
  orgId: number,
  name?: string,
): Promise<PartnerProgramView[] | undefined> {
  const org = await findOrg(db, orgId);
  if (!org) return undefined;
  return (await listPartnerPrograms(db, orgId, name)).map((pp) => partnerProgramView(pp, org.timezone));
}

export async function describeTills(db: DB, orgId: number): Promise<TillSummary[] | undefined> {
  return (await findOrg(db, orgId)) ? listTills(db, orgId) : undefined;
}

export async function describeCustomer(db: DB, orgId: number, customerId: number): Promise<CustomerView | undefined> {
  const [org, customer] = [await findOrg(db, orgId), (await findCustomersByIds(db, orgId, [customerId]))[0]];
  if (!org || !customer) return undefined;
  return { ...customer, createdAt: formatInZone(customer.createdAt, org.timezone) };
}
