-- The sandbox clock: one row, shared by every process on this database, so API instances and
-- workers agree on the moved time. `offset_ms` is added to the real time.
create table sandbox_clock (
  id          boolean primary key default true check (id),
  offset_ms   bigint not null,
  updated_at  timestamptz not null
);

-- Expiry reminders already recorded: the primary key makes each (period, days-before) reminder
-- happen exactly once, whichever scheduler instance gets there first.
create table membership_reminders (
  membership_id  bigint not null references memberships (id),
  period_end     timestamptz not null,
  days_before    integer not null,
  recorded_at    timestamptz not null,
  primary key (membership_id, period_end, days_before)
);

-- Programs whose expiry has come and that still have open memberships are found through this.
create index partner_programs_expiry on partner_programs (expiry_date) where expiry_date is not null;
create index memberships_program on memberships (partner_program_id);
