-- OAuth clients (SPEC §10). Token generation sends only a key and a secret, so a key names one
-- client in the whole service, like a till username.
create table oauth_clients (
  id                 bigint generated always as identity primary key,
  org_id             bigint not null references orgs (id),
  client_key         text not null unique check (client_key <> ''),
  secret_hash        text not null,
  access_groups      text[] not null default '{}',
  token_ttl_seconds  integer not null default 3600 check (token_ttl_seconds between 1 and 3600),
  -- Tokens issued before this instant are refused: changing the secret revokes them.
  secret_changed_at  timestamptz not null
);
create index oauth_clients_org on oauth_clients (org_id);

-- The token signing key when OAUTH_SIGNING_KEY is not set: one row, inserted if absent by
-- whichever instance starts first, so every instance (and every restart) signs and verifies
-- with the same key.
create table signing_keys (
  id               boolean primary key default true check (id),
  kid              text not null,
  private_key_pem  text not null,
  created_at       timestamptz not null
);

-- Failed logins per subject (a hash of "basic:<username>" or "oauth:<key>"), shared by every
-- instance; rows older than the throttling window are deleted as new failures arrive.
create table login_failures (
  subject    text not null,
  failed_at  timestamptz not null
);
create index login_failures_subject on login_failures (subject, failed_at);
create index login_failures_failed_at on login_failures (failed_at);

-- Idempotency-Key claims and the answers they replay (SPEC §11), scoped per org and credential.
-- A row without a status is a request still in progress.
create table idempotency_keys (
  org_id           bigint not null references orgs (id),
  credential       text not null,
  idempotency_key  text not null,
  request_hash     text not null,
  -- Who holds an in-progress claim: only its holder may record the answer or let the key go.
  claim_token      text not null,
  claimed_at       timestamptz not null,
  expires_at       timestamptz not null,
  status_code      integer,
  response_body    text,
  primary key (org_id, credential, idempotency_key),
  check ((status_code is null) = (response_body is null))
);
create index idempotency_keys_expiry on idempotency_keys (org_id, expires_at);
