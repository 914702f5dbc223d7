-- Every org-scoped row is keyed by its org (SPEC §11): each primary key, unique constraint and
-- foreign key between org-scoped tables starts with org_id, and every index the hot path probes
-- leads with it, so that one org's rows can live on one shard of a distributed engine and every
-- statement of a request reads and writes that shard alone. On PostgreSQL and PGlite this is the
-- whole migration; on a Citus coordinator (the `citus` extension is installed) the last block
-- distributes the org-scoped tables by org_id, colocated, and makes the global ones reference
-- tables.

-- Tiers and reminders carry their org themselves.
alter table partner_program_tiers add column org_id bigint;
update partner_program_tiers t set org_id = p.org_id from partner_programs p where p.id = t.partner_program_id;
alter table partner_program_tiers alter column org_id set not null;

alter table membership_reminders add column org_id bigint;
update membership_reminders r set org_id = m.org_id from memberships m where m.id = r.membership_id;
alter table membership_reminders alter column org_id set not null;

-- Foreign keys that name a row by its id alone go first; they come back keyed by org below.
alter table memberships drop constraint memberships_partner_program_id_tier_number_fkey;
alter table partner_program_tiers drop constraint partner_program_tiers_partner_program_id_fkey;
alter table membership_activities drop constraint membership_activities_membership_id_fkey;
alter table membership_reminders drop constraint membership_reminders_membership_id_fkey;

-- Partner programs: (org, id).
alter table partner_programs drop constraint partner_programs_org_id_backup_program_id_fkey;
alter table partner_programs drop constraint partner_programs_pkey;
alter table partner_programs drop constraint partner_programs_org_id_id_key;
alter table partner_programs add primary key (org_id, id);
alter table partner_programs add foreign key (org_id, backup_program_id) references partner_programs (org_id, id);

-- Tiers: (org, program, number).
alter table partner_program_tiers drop constraint partner_program_tiers_pkey;
alter table partner_program_tiers add primary key (org_id, partner_program_id, number);
drop index partner_program_tiers_name;
create unique index partner_program_tiers_name on partner_program_tiers (org_id, partner_program_id, lower(name));
alter table partner_program_tiers add foreign key (org_id, partner_program_id)
  references partner_programs (org_id, id) on delete cascade;

-- Customers: (org, id); their enrolments (org, customer, loyalty program).
alter table customer_enrolments drop constraint customer_enrolments_pkey;
alter table customer_enrolments add primary key (org_id, customer_id, loyalty_program_id);
alter table customer_enrolments drop constraint customer_enrolments_org_id_customer_id_fkey;
alter table memberships drop constraint memberships_org_id_customer_id_fkey;
alter table customers drop constraint customers_pkey;
alter table customers drop constraint customers_org_id_id_key;
alter table customers add primary key (org_id, id);
alter table customer_enrolments add foreign key (org_id, customer_id) references customers (org_id, id);

-- Memberships: (org, id), one per (org, customer, program).
alter table memberships drop constraint memberships_pkey;
alter table memberships add primary key (org_id, id);
alter table memberships drop constraint memberships_customer_id_partner_program_id_key;
alter table memberships add constraint memberships_customer_program unique (org_id, customer_id, partner_program_id);
alter table memberships add foreign key (org_id, customer_id) references customers (org_id, id);
alter table memberships add foreign key (org_id, partner_program_id, tier_number)
  references partner_program_tiers (org_id, partner_program_id, number);
-- The unique constraint's index serves the lookups by (org, customer).
drop index memberships_org_customer;
drop index memberships_program;
create index memberships_program on memberships (org_id, partner_program_id);
-- The scheduler works org by org: its due-work indexes lead with the org.
drop index memberships_open_end;
drop index memberships_scheduled_start;
drop index memberships_pending_relink;
create index memberships_open_end on memberships (org_id, end_at) where state in ('SCHEDULED', 'ACTIVE');
create index memberships_scheduled_start on memberships (org_id, start_at) where state = 'SCHEDULED';
create index memberships_pending_relink on memberships (org_id, pending_relink_start_at)
  where pending_relink_start_at is not null;
drop index partner_programs_expiry;
create index partner_programs_expiry on partner_programs (org_id, expiry_date) where expiry_date is not null;

-- Activities: (org, id), found by (org, membership).
alter table membership_activities drop constraint membership_activities_pkey;
alter table membership_activities add primary key (org_id, id);
alter table membership_activities add foreign key (org_id, membership_id) references memberships (org_id, id);
drop index membership_activities_membership;
create index membership_activities_membership
  on membership_activities (org_id, membership_id, occurred_at desc, id desc);

-- Reminders: once per (org, membership, period, days before).
alter table membership_reminders drop constraint membership_reminders_pkey;
alter table membership_reminders add primary key (org_id, membership_id, period_end, days_before);
alter table membership_reminders add foreign key (org_id, membership_id) references memberships (org_id, id);

-- Deliveries: the due and leased indexes lead with the org, as the worker claims org by org.
drop index deliveries_due;
create index deliveries_due on deliveries (org_id, subscription_id, next_attempt_at) where status = 'PENDING';
drop index deliveries_leased;
create index deliveries_leased on deliveries (org_id, lease_token) where lease_token is not null;

-- On Citus: the global tables (one row, or identities unique across the service: orgs, loyalty
-- program ids, till usernames, OAuth client keys, login throttling subjects) are reference tables,
-- copied to every node; every other table is distributed by org_id in one colocation group, so
-- an org's customers, memberships, events and deliveries share a shard and join on it.
do $$
declare
  fk record;
begin
  if not exists (select 1 from pg_extension where extname = 'citus') then
    return;
  end if;
  -- One connection per node for the whole migration: distributing tables that reference each
  -- other in one transaction needs it.
  set local citus.multi_shard_modify_mode to 'sequential';
  -- Foreign keys are set aside while the tables are distributed (Citus would otherwise turn the
  -- tables tied to the first reference table into local tables of its own, which it cannot then
  -- distribute when they have identity columns), then put back as they were.
  create temporary table set_aside_foreign_keys on commit drop as
    select conrelid::regclass as tbl, conname, pg_get_constraintdef(oid) as def
    from pg_constraint where contype = 'f' and connamespace = current_schema()::regnamespace;
  for fk in select * from set_aside_foreign_keys loop
    execute format('alter table %s drop constraint %I', fk.tbl, fk.conname);
  end loop;
  perform create_reference_table('orgs');
  perform create_reference_table('loyalty_programs');
  perform create_reference_table('tills');
  perform create_reference_table('oauth_clients');
  perform create_reference_table('signing_keys');
  perform create_reference_table('sandbox_clock');
  perform create_reference_table('login_failures');
  perform create_reference_table('configuration_version');
  perform create_distributed_table('partner_programs', 'org_id');
  perform create_distributed_table('partner_program_tiers', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('customers', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('customer_enrolments', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('memberships', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('membership_activities', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('membership_reminders', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('idempotency_keys', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('webhook_subscriptions', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('events', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('deliveries', 'org_id', colocate_with => 'partner_programs');
  perform create_distributed_table('delivery_attempts', 'org_id', colocate_with => 'partner_programs');
  for fk in select * from set_aside_foreign_keys loop
    execute format('alter table %s add constraint %I %s', fk.tbl, fk.conname, fk.def);
  end loop;
end
$$;
