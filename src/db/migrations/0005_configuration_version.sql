-- One counter for the whole configuration (orgs, loyalty and partner programs, tiers, tills,
-- OAuth clients, webhooks): every configuration change bumps it in its own transaction, and
-- every authenticated request reads it with its credential, so an instance's cache of program
-- facts is known stale the moment another instance commits a change. Its row lock is also what
-- makes configuration changes take turns.
create table configuration_version (
  id       boolean primary key default true check (id),
  version  bigint not null
);
insert into configuration_version (id, version) values (true, 1);
