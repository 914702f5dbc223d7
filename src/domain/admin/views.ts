import type { DB } from '../../db/database.js';
import {
  countCustomers,
  findOrg,
  listLoyaltyPrograms,
  listOrgs,
  listTills,
  type OrgRow,
  type TillRow,
} from '../../db/repositories/configuration.repository.js';
import { findCustomersByIds, type CustomerIdentifiers } from '../../db/repositories/customers.repository.js';
import { listOAuthClients, type OAuthClientRow } from '../../db/repositories/oauth.repository.js';
import {
  listPartnerPrograms,
  type PartnerProgramRow,
} from '../../db/repositories/partner-program-config.repository.js';
import { formatInZone, fromDate } from '../dates.js';

/** What the admin API shows of the configuration: the config file's shape, plus ids; never a password or secret. */

export type OrgSummary = OrgRow;

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
  tills: TillRow[];
  oauthClients: OAuthClientRow[];
  customerCount: number;
}

export interface CustomerView extends CustomerIdentifiers {
  loyaltyProgramIds: number[];
  createdAt: string;
}

export function partnerProgramView(row: PartnerProgramRow, timezone: string): PartnerProgramView {
  return {
    id: row.id,
    loyaltyProgramId: row.loyaltyProgramId,
    name: row.name,
    type: row.type,
    description: row.description,
    active: row.active,
    tiers: row.tiers,
    membershipCycle: row.cycleUnit && row.cycleValue ? { unit: row.cycleUnit, value: row.cycleValue } : null,
    expiryDate: row.expiryDate ? formatInZone(fromDate(row.expiryDate), timezone) : null,
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

export async function describeTills(db: DB, orgId: number): Promise<TillRow[] | undefined> {
  return (await findOrg(db, orgId)) ? listTills(db, orgId) : undefined;
}

export async function describeCustomer(db: DB, orgId: number, customerId: number): Promise<CustomerView | undefined> {
  const [org, customer] = [await findOrg(db, orgId), (await findCustomersByIds(db, orgId, [customerId]))[0]];
  if (!org || !customer) return undefined;
  return { ...customer, createdAt: formatInZone(fromDate(customer.createdAt), org.timezone) };
}
