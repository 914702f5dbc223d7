-- Webhook subscriptions (SPEC §9.3), per org and name. The signing secret and the custom
-- headers (which may hold the receiver's own credentials) are stored sealed (AES-256-GCM) with
-- the service's secrets key, so a dump of the database alone does not hand them out;
-- `key_fingerprint` names the key that sealed them.
create table webhook_subscriptions (
  id               bigint generated always as identity,
  org_id           bigint not null references orgs (id),
  name             text not null,
  url              text not null,
  events           text[] not null,
  active           boolean not null default true,
  secret_sealed    text not null,
  headers_sealed   text not null,
  header_names     text[] not null default '{}',
  key_fingerprint  text not null,
  created_at       timestamptz not null,
  updated_at       timestamptz not null,
  primary key (org_id, id),
  unique (org_id, name)
);

-- The outbox (SPEC §9): one row per event, written by the statement that writes the change it
-- describes. `seq` orders the events of one transaction as their changes were made; `data` is
-- the payload's JSON text, kept byte for byte so that every attempt signs the same body.
create table events (
  org_id          bigint not null references orgs (id),
  seq             bigint generated always as identity,
  id              uuid not null,
  event_name      text not null,
  customer_id     bigint,
  created_at      timestamptz not null,
  source          text not null check (source in ('API', 'JOB', 'CONSOLE')),
  api_request_id  text,
  data            text not null,
  primary key (org_id, seq),
  unique (org_id, id)
);
create index events_log on events (org_id, created_at desc, seq desc);
create index events_customer on events (org_id, customer_id, created_at desc, seq desc);

-- One delivery per (subscription, event), created with the event for every subscription active
-- then. `next_attempt_at` is on the service clock (the sandbox clock moves retries);
-- `leased_until` is real time: an attempt in flight, which no other worker takes until the lease
-- ends (a worker killed mid-send leaves a lease that simply runs out). `schedule_attempts`
-- counts the attempts of the current schedule (a manual retry starts a fresh one); `attempts`
-- counts every attempt ever.
create table deliveries (
  org_id                bigint not null,
  subscription_id       bigint not null,
  event_seq             bigint not null,
  event_id              uuid not null,
  event_name            text not null,
  event_created_at      timestamptz not null,
  status                text not null default 'PENDING' check (status in ('PENDING', 'SUCCEEDED', 'FAILED')),
  attempts              integer not null default 0,
  schedule_attempts     integer not null default 0,
  next_attempt_at       timestamptz,
  leased_until          timestamptz,
  lease_token           uuid,
  last_attempt_at       timestamptz,
  last_response_status  integer,
  last_error            text,
  succeeded_at          timestamptz,
  primary key (org_id, subscription_id, event_seq),
  foreign key (org_id, subscription_id) references webhook_subscriptions (org_id, id) on delete cascade,
  foreign key (org_id, event_seq) references events (org_id, seq) on delete cascade
);
create index deliveries_due on deliveries (subscription_id, next_attempt_at) where status = 'PENDING';
create index deliveries_log on deliveries (org_id, subscription_id, event_created_at desc, event_seq desc);
create index deliveries_event on deliveries (org_id, event_seq);
-- Attempts in flight, found by their lease when they finish: only leased rows are in it.
create index deliveries_leased on deliveries (lease_token) where lease_token is not null;

-- Every attempt of a delivery: when (real time), how long, and what came back.
create table delivery_attempts (
  org_id            bigint not null,
  subscription_id   bigint not null,
  event_seq         bigint not null,
  attempt           integer not null,
  started_at        timestamptz not null,
  duration_ms       integer not null,
  response_status   integer,
  error             text,
  primary key (org_id, subscription_id, event_seq, attempt),
  foreign key (org_id, subscription_id, event_seq) references deliveries (org_id, subscription_id, event_seq)
    on delete cascade
);
