-- The schema enforces the domain's invariants itself: identifiers unique per org, one
-- membership per customer x partner program, every row tied to its org by foreign keys
-- (an enrolment or a membership can never point at another org's customer or program),
-- and membership states that fit their program type.

create table orgs (
  id          bigint primary key check (id > 0),
  name        text not null check (name <> ''),
  timezone    text not null,
  configs     jsonb not null default '{}'::jsonb check (jsonb_typeof(configs) = 'object')
);

create table loyalty_programs (
  id          bigint primary key check (id > 0),
  org_id      bigint not null references orgs (id),
  name        text not null check (name <> ''),
  one_supplementary_program_at_a_time boolean not null default false,
  unique (org_id, id)
);

create table partner_programs (
  id                  bigint generated always as identity primary key,
  org_id              bigint not null,
  loyalty_program_id  bigint not null,
  name                text not null check (char_length(name) between 1 and 50),
  description         text,
  type                text not null check (type in ('EXTERNAL', 'SUPPLEMENTARY')),
  active              boolean not null default true,
  expiry_date         timestamptz,
  cycle_unit          text check (cycle_unit in ('DAYS', 'MONTHS')),
  cycle_value         integer check (cycle_value > 0),
  backup_program_id   bigint,
  expiry_reminder_days integer[] not null default '{}',
  unique (org_id, id),
  unique (org_id, id, type),
  foreign key (org_id, loyalty_program_id) references loyalty_programs (org_id, id),
  foreign key (org_id, backup_program_id) references partner_programs (org_id, id),
  check ((type = 'SUPPLEMENTARY') = (cycle_unit is not null and cycle_value is not null)),
  check (type = 'SUPPLEMENTARY' or backup_program_id is null),
  check (backup_program_id is distinct from id)
);
create unique index partner_programs_org_name on partner_programs (org_id, lower(name));

create table partner_program_tiers (
  partner_program_id  bigint not null references partner_programs (id) on delete cascade,
  number              integer not null check (number >= 1),
  name                text not null check (char_length(name) between 1 and 64),
  primary key (partner_program_id, number)
);
create unique index partner_program_tiers_name on partner_program_tiers (partner_program_id, lower(name));

create table tills (
  id            bigint generated always as identity primary key,
  org_id        bigint not null references orgs (id),
  -- Basic credentials carry no org, so a username names one till in the whole service.
  username      text not null unique check (username <> ''),
  password_hash text not null,
  access_groups text[] not null default '{}'
);

create table customers (
  id           bigint generated always as identity (start with 100000001) primary key,
  org_id       bigint not null references orgs (id),
  mobile       text check (mobile <> ''),
  email        text check (email <> ''),
  external_id  text check (external_id <> ''),
  created_at   timestamptz not null,
  unique (org_id, id),
  unique (org_id, mobile),
  unique (org_id, email),
  unique (org_id, external_id)
);

create table customer_enrolments (
  org_id              bigint not null,
  customer_id         bigint not null,
  loyalty_program_id  bigint not null,
  primary key (customer_id, loyalty_program_id),
  foreign key (org_id, customer_id) references customers (org_id, id),
  foreign key (org_id, loyalty_program_id) references loyalty_programs (org_id, id)
);

create table memberships (
  id                       bigint generated always as identity primary key,
  org_id                   bigint not null,
  customer_id              bigint not null,
  partner_program_id       bigint not null,
  program_type             text not null,
  partner_membership_id    text,
  state                    text not null,
  tier_number              integer,
  tier_expiry_at           timestamptz,
  start_at                 timestamptz,
  end_at                   timestamptz,
  pending_relink_start_at  timestamptz,
  created_at               timestamptz not null,
  updated_at               timestamptz not null,
  unique (customer_id, partner_program_id),
  foreign key (org_id, customer_id) references customers (org_id, id),
  foreign key (org_id, partner_program_id, program_type) references partner_programs (org_id, id, type),
  foreign key (partner_program_id, tier_number) references partner_program_tiers (partner_program_id, number),
  check (
    (program_type = 'EXTERNAL'
      and state in ('LINKED', 'DELINKED')
      and end_at is null and pending_relink_start_at is null)
    or
    (program_type = 'SUPPLEMENTARY'
      and state in ('SCHEDULED', 'ACTIVE', 'EXPIRED', 'DELINKED')
      and start_at is not null and end_at is not null and end_at > start_at
      and tier_number is null)
  ),
  check (pending_relink_start_at is null or pending_relink_start_at > end_at)
);
create index memberships_org_customer on memberships (org_id, customer_id);
-- Due-work indexes for the scheduler: only open periods and pending relinks are scanned.
create index memberships_open_end on memberships (end_at) where state in ('SCHEDULED', 'ACTIVE');
create index memberships_scheduled_start on memberships (start_at) where state = 'SCHEDULED';
create index memberships_pending_relink on memberships (pending_relink_start_at)
  where pending_relink_start_at is not null;

create table membership_activities (
  id             bigint generated always as identity primary key,
  org_id         bigint not null,
  membership_id  bigint not null references memberships (id),
  activity_type  text not null,
  occurred_at    timestamptz not null,
  source         text not null check (source in ('API', 'JOB')),
  details        jsonb not null default '{}'::jsonb
);
create index membership_activities_membership on membership_activities (membership_id, occurred_at desc, id desc);
