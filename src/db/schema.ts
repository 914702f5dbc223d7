import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables created by `migrations/*.sql`; keep the two in step. */

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface OrgsTable {
  id: number;
  name: string;
  timezone: string;
  configs: ColumnType<Record<string, unknown>, string, string>;
}

export interface LoyaltyProgramsTable {
  id: number;
  org_id: number;
  name: string;
  one_supplementary_program_at_a_time: Generated<boolean>;
}

export interface PartnerProgramsTable {
  id: Generated<number>;
  org_id: number;
  loyalty_program_id: number;
  name: string;
  description: string | null;
  type: 'EXTERNAL' | 'SUPPLEMENTARY';
  active: Generated<boolean>;
  expiry_date: Timestamp | null;
  cycle_unit: 'DAYS' | 'MONTHS' | null;
  cycle_value: number | null;
  backup_program_id: number | null;
  expiry_reminder_days: Generated<number[]>;
}

export interface PartnerProgramTiersTable {
  org_id: number;
  partner_program_id: number;
  number: number;
  name: string;
}

export interface TillsTable {
  id: Generated<number>;
  org_id: number;
  username: string;
  password_hash: string;
  access_groups: string[];
}

export interface CustomersTable {
  id: Generated<number>;
  org_id: number;
  mobile: string | null;
  email: string | null;
  external_id: string | null;
  created_at: Timestamp;
}

export interface CustomerEnrolmentsTable {
  org_id: number;
  customer_id: number;
  loyalty_program_id: number;
}

export interface MembershipsTable {
  id: Generated<number>;
  org_id: number;
  customer_id: number;
  partner_program_id: number;
  program_type: 'EXTERNAL' | 'SUPPLEMENTARY';
  partner_membership_id: string | null;
  state: 'LINKED' | 'DELINKED' | 'SCHEDULED' | 'ACTIVE' | 'EXPIRED';
  tier_number: number | null;
  tier_expiry_at: Timestamp | null;
  start_at: Timestamp | null;
  end_at: Timestamp | null;
  pending_relink_start_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MembershipActivitiesTable {
  id: Generated<number>;
  org_id: number;
  membership_id: number;
  activity_type: string;
  occurred_at: Timestamp;
  source: 'API' | 'JOB';
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface SandboxClockTable {
  id: Generated<boolean>;
  offset_ms: number;
  updated_at: Timestamp;
}

export interface MembershipRemindersTable {
  org_id: number;
  membership_id: number;
  period_end: Timestamp;
  days_before: number;
  recorded_at: Timestamp;
}

export interface OAuthClientsTable {
  id: Generated<number>;
  org_id: number;
  client_key: string;
  secret_hash: string;
  access_groups: string[];
  token_ttl_seconds: Generated<number>;
  secret_changed_at: Timestamp;
}

export interface SigningKeysTable {
  id: Generated<boolean>;
  kid: string;
  private_key_pem: string;
  created_at: Timestamp;
}

export interface LoginFailuresTable {
  subject: string;
  failed_at: Timestamp;
}

export interface IdempotencyKeysTable {
  org_id: number;
  credential: string;
  idempotency_key: string;
  request_hash: string;
  claim_token: string;
  claimed_at: Timestamp;
  expires_at: Timestamp;
  status_code: number | null;
  response_body: string | null;
}

export interface WebhookSubscriptionsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  url: string;
  events: string[];
  active: Generated<boolean>;
  secret_sealed: string;
  headers_sealed: string;
  header_names: Generated<string[]>;
  key_fingerprint: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  org_id: number;
  seq: Generated<number>;
  id: string;
  event_name: string;
  customer_id: number | null;
  created_at: Timestamp;
  source: 'API' | 'JOB' | 'CONSOLE';
  api_request_id: string | null;
  data: string;
}

export interface DeliveriesTable {
  org_id: number;
  subscription_id: number;
  event_seq: number;
  event_id: string;
  event_name: string;
  event_created_at: Timestamp;
  status: Generated<'PENDING' | 'SUCCEEDED' | 'FAILED'>;
  attempts: Generated<number>;
  schedule_attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  leased_until: Timestamp | null;
  lease_token: string | null;
  last_attempt_at: Timestamp | null;
  last_response_status: number | null;
  last_error: string | null;
  succeeded_at: Timestamp | null;
}

export interface DeliveryAttemptsTable {
  org_id: number;
  subscription_id: number;
  event_seq: number;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
}

export interface ConfigurationVersionTable {
  id: Generated<boolean>;
  version: number;
}

export interface Database {
  orgs: OrgsTable;
  loyalty_programs: LoyaltyProgramsTable;
  partner_programs: PartnerProgramsTable;
  partner_program_tiers: PartnerProgramTiersTable;
  tills: TillsTable;
  customers: CustomersTable;
  customer_enrolments: CustomerEnrolmentsTable;
  memberships: MembershipsTable;
  membership_activities: MembershipActivitiesTable;
  sandbox_clock: SandboxClockTable;
  membership_reminders: MembershipRemindersTable;
  oauth_clients: OAuthClientsTable;
  signing_keys: SigningKeysTable;
  login_failures: LoginFailuresTable;
  idempotency_keys: IdempotencyKeysTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  configuration_version: ConfigurationVersionTable;
}
