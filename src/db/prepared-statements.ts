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
 * Every parameterised statement on `client` runs as a named prepared statement: PostgreSQL
 * parses and plans it once per connection, not on every execution (the pg driver sends Parse
 * once per name and connection, then Bind/Execute only). The name is a hash of the text, so one
 * name never means two statements. Statements without parameters (migrations, which may hold
 * several statements in one text) and query objects (cursors) pass through unchanged.
 */
export function prepareStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as Query;
  (client as unknown as { query: Query }).query = (config, values, callback) => {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      const name = nameOf(config);
      if (name !== undefined) return query({ name, text: config, values }, callback);
    }
    return query(config, values, callback);
  };
}
