import { sql, type Transaction } from 'kysely';
import type { DB } from './database.js';
import type { Database } from './schema.js';

/**
 * Runs `work` in a transaction whose statements may read or write several orgs at once. On a
 * Citus cluster such a statement runs on several shards; everything else this service runs names
 * one org and so one shard (SPEC §11). The few that span them (the metrics' backlog, the start-up
 * check of sealing keys, the delivery worker's look for orgs with webhooks, due times and leases
 * given back) go through here, which says so to Citus: a connection set to refuse multi-shard
 * statements (`citus.multi_task_query_log_level = error`, as the tests run) lets these through.
 * On PostgreSQL and PGlite the setting is an inert placeholder.
 */
export function acrossShards<T>(db: DB, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local citus.multi_task_query_log_level = 'off'`.execute(trx);
    return work(trx);
  });
}
