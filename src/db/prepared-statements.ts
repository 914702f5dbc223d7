import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Distinct statements that get a name: the repositories' statements are a few dozen fixed texts
 * (lists are passed as arrays, never as a varying number of placeholders), so this bounds only
 * what an unexpected caller could make the server hold per connection.
 */
const MAX_NAMED_STATEMENTS = 500;

/** Statement text → its name, shared by every connection of the process. */
const names = new Map<string, string>();

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
    name = `pp_${createHash('sha1').update(text).digest('base64url')}`;
    names.set(text, name);
  }
  return name;
}

type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * How every connection plans: afresh for each execution, with its parameters and the tables'
 * sizes as they are then. A cached generic plan is made once and kept: one made while a table
 * was nearly empty (a new deployment, a bulk load) goes on scanning it whole as it grows, and
 * the same holds for the plans of the foreign-key checks PostgreSQL runs on every insert. A
 * custom plan costs a little planning per statement and never goes stale.
 */
export const PLANNING_SETTING = 'set plan_cache_mode = force_custom_plan';

/**
 * Sets up a new connection: its planning (PLANNING_SETTING), then every parameterised statement
 * on it runs as a named prepared statement, parsed once per connection, not on every execution
 * (the pg driver sends Parse once per name and connection, then Bind/Execute only). The name is
 * a hash of the text, so one name never means two statements. Statements without parameters
 * (migrations, which may hold several statements in one text) and query objects (cursors) pass
 * through unchanged.
 */
export function prepareStatements(client: pg.PoolClient): void {
  // Queued before anything the pool hands this connection out for.
  client.query(PLANNING_SETTING).catch(() => {
    // A connection that cannot take it fails its first real statement the same way.
  });
  const query = client.query.bind(client) as Query;
  (client as unknown as { query: Query }).query = (config, values, callback) => {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      const name = nameOf(config);
      if (name !== undefined) return query({ name, text: config, values }, callback);
    }
    return query(config, values, callback);
  };
}
