import { ping, type DB } from '../db/database.js';
import type { IdentifierName } from '../model/customer.js';
import type { IdempotencyScope } from '../model/idempotency.js';
import type { AnswerRecording, BatchDependencies, BatchItem } from './batch/batch-runner.js';
import { ProgramCatalog } from './program-catalog.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';
import type { SecretBox } from './secrets.js';
import type { Telemetry } from './telemetry.js';
import { upsertCustomers } from './configuration/customers.js';
import { describeOAuthClients, putOAuthClient, removeOAuthClient } from './configuration/oauth-clients.js';
import { patchOrgConfigs, putLoyaltyProgram, putOrg } from './configuration/orgs.js';
import { putPartnerProgram, type PartnerProgramBody } from './configuration/partner-programs.js';
import { putTill } from './configuration/tills.js';
import { describeWebhooks, putWebhook, removeWebhook, type WebhookBody } from './configuration/webhooks.js';
import {
  describeCustomer,
  describeOrg,
  describePartnerPrograms,
  describeTills,
  listOrgSummaries,
} from './configuration/views.js';
import type { DelinkEntry } from './delink/delink-policy.js';
import { delinkCustomers } from './delink/delink.service.js';
import {
  listEventLog,
  listWebhookDeliveries,
  retryWebhookDelivery,
  type DeliveriesQuery,
  type EventLogQuery,
} from './event-log.service.js';
import { customerActivityHistory, type HistoryQuery } from './history.service.js';
import { claimKey, recordAnswer, releaseKey } from './idempotency.js';
import type { LinkEntry } from './link/link-policy.js';
import { linkCustomers } from './link/link.service.js';
import { findCustomerId, lookupCustomer } from './lookup.service.js';
import { listOrgPrograms } from './programs.service.js';
import type { UpdateEntry } from './update/update-policy.js';
import { updateCustomers } from './update/update.service.js';

export interface UseCaseDependencies {
  db: DB;
  clock: Clock;
  /** How long a batch waits for a customer another request holds (LOCK_TIMEOUT_MS). */
  lockTimeoutMs: number;
  /** The lock_timeout `db`'s connections already have (openDatabase); a batch sets its own only when it differs. */
  databaseLockTimeoutMs?: number;
  /** The timezone of an org created through the admin API without one. */
  defaultTimezone: string;
  /** Seals webhook secrets and custom headers. */
  secrets: SecretBox;
  /** Told of batch entries' events once committed (the metrics). */
  telemetry?: Telemetry;
}

/**
 * Every use case the HTTP layer calls, bound to the database and the clock: routes receive these
 * functions and never the database handle. Built once, in the composition root (app.ts).
 */
export function bindUseCases(deps: UseCaseDependencies) {
  const { db, clock, lockTimeoutMs, defaultTimezone, secrets, telemetry } = deps;
  const batch: BatchDependencies = {
    db,
    clock,
    lockTimeoutMs: lockTimeoutMs === deps.databaseLockTimeoutMs ? undefined : lockTimeoutMs,
    programs: new ProgramCatalog(db),
    telemetry,
  };
  return {
    /** Resolves when the database answers. */
    ready: () => ping(db),
    linkCustomers: (
      caller: Caller,
      items: ReadonlyArray<BatchItem<LinkEntry>>,
      recording?: AnswerRecording<LinkEntry>,
    ) => linkCustomers(batch, caller, items, recording),
    updateCustomers: (
      caller: Caller,
      items: ReadonlyArray<BatchItem<UpdateEntry>>,
      recording?: AnswerRecording<UpdateEntry>,
    ) => updateCustomers(batch, caller, items, recording),
    delinkCustomers: (
      caller: Caller,
      items: ReadonlyArray<BatchItem<DelinkEntry>>,
      recording?: AnswerRecording<DelinkEntry>,
    ) => delinkCustomers(batch, caller, items, recording),
    findCustomerId: (caller: Caller, name: IdentifierName, value: string | number) =>
      findCustomerId({ db }, caller, name, value),
    lookupCustomer: (caller: Caller, name: IdentifierName, value: string | number) =>
      lookupCustomer({ db, clock }, caller, name, value),
    customerActivityHistory: (caller: Caller, query: HistoryQuery) =>
      customerActivityHistory({ db, clock }, caller, query),
    listOrgPrograms: (caller: Caller) => listOrgPrograms({ db }, caller),
    idempotency: {
      claim: (scope: IdempotencyScope, hash: string) => claimKey({ db, clock }, scope, hash),
      record: (scope: IdempotencyScope, token: string, statusCode: number, body: string) =>
        recordAnswer(db, scope, token, statusCode, body),
      release: (scope: IdempotencyScope, token: string) => releaseKey(db, scope, token),
    },
    configuration: {
      listOrgs: () => listOrgSummaries(db),
      describeOrg: (orgId: number) => describeOrg(db, orgId),
      putOrg: (orgId: number, body: Parameters<typeof putOrg>[2]) => putOrg(db, orgId, body, defaultTimezone),
      patchOrgConfigs: (orgId: number, patch: Record<string, unknown>) => patchOrgConfigs(db, orgId, patch),
      putLoyaltyProgram: (orgId: number, loyaltyProgramId: number, body: Parameters<typeof putLoyaltyProgram>[3]) =>
        putLoyaltyProgram(db, orgId, loyaltyProgramId, body),
      describePartnerPrograms: (orgId: number) => describePartnerPrograms(db, orgId),
      putPartnerProgram: (orgId: number, name: string, body: PartnerProgramBody) =>
        putPartnerProgram(db, orgId, name, body),
      describeTills: (orgId: number) => describeTills(db, orgId),
      putTill: (orgId: number, username: string, body: Parameters<typeof putTill>[3]) =>
        putTill(db, orgId, username, body),
      describeOAuthClients: (orgId: number, key?: string) => describeOAuthClients(db, orgId, key),
      putOAuthClient: (orgId: number, key: string, body: Parameters<typeof putOAuthClient>[3]) =>
        putOAuthClient(db, orgId, key, body, clock),
      removeOAuthClient: (orgId: number, key: string) => removeOAuthClient(db, orgId, key),
      upsertCustomers: (orgId: number, customers: Parameters<typeof upsertCustomers>[2]) =>
        upsertCustomers(db, orgId, customers, clock),
      describeCustomer: (orgId: number, customerId: number) => describeCustomer(db, orgId, customerId),
      describeWebhooks: (orgId: number, name?: string) => describeWebhooks(db, orgId, name),
      putWebhook: (orgId: number, name: string, body: WebhookBody) =>
        putWebhook({ db, clock, secrets }, orgId, name, body),
      removeWebhook: (orgId: number, name: string) => removeWebhook(db, orgId, name),
      listEvents: (orgId: number, query: EventLogQuery) => listEventLog(db, orgId, query),
      listDeliveries: (orgId: number, name: string, query: DeliveriesQuery) =>
        listWebhookDeliveries(db, orgId, name, query),
      retryDelivery: (orgId: number, name: string, eventId: string) =>
        retryWebhookDelivery({ db, clock }, orgId, name, eventId),
    },
  };
}

export type UseCases = ReturnType<typeof bindUseCases>;
export type ConfigurationUseCases = UseCases['configuration'];
export type IdempotencyUseCases = UseCases['idempotency'];
