import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ORG_ID = 1;
export const LOYALTY_PROGRAM_ID = 1;

/** The bench's own database: created empty here, migrated by the service when it starts. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * With `template`, a copy of what it holds: a seeded data set copied takes seconds where seeding
 * it again takes minutes. `strategy file_copy` copies the files after a checkpoint instead of
 * writing every page to the WAL (PostgreSQL 15's default), the faster way for gigabytes. Nobody
 * may be connected to the template meanwhile.
 */
export async function createBenchDatabase(serverUrl: string, template?: BenchDatabase): Promise<BenchDatabase> {
  const name = `pp_bench_${randomBytes(4).toString('hex')}`;
  const copy = template ? ` template ${template.name} strategy file_copy` : '';
  await onServer(serverUrl, `create database ${name}${copy}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // `with (force)` ends connections a killed service may have left behind.
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * What seeding and counting need of a connection: a pg.Client, or the embedded database opened
 * by the bench (bench/lib/pglite-service.ts), so that both are seeded by the same statements.
 */
export interface SqlClient {
  query<Row extends object>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

/** The mobile of the customer at `index` (0-based): `91700` + 7 digits. */
export function mobileOf(index: number): string {
  return `91700${String(index).padStart(7, '0')}`;
}

/**
 * Seeds `count` customers enrolled in the loyalty program, two set-based statements, and returns
 * the id of customer 0. The ids are consecutive (one insert from an ordered series), which the
 * raw SQL part relies on to address customer `index` as `firstId + index` without a lookup.
 */
export async function seedCustomers(client: SqlClient, count: number): Promise<number> {
  await client.query(
    `insert into customers (org_id, mobile, created_at)
     select $1, '91700' || lpad(i::text, 7, '0'), now() from generate_series(0, $2::int - 1) as i order by i`,
    [ORG_ID, count],
  );
  await client.query(
    `insert into customer_enrolments (org_id, customer_id, loyalty_program_id)
     select org_id, id, $2 from customers where org_id = $1`,
    [ORG_ID, LOYALTY_PROGRAM_ID],
  );
  // Fresh statistics, so the service's lookups by mobile plan as they would on a live database.
  await client.query('vacuum analyze customers, customer_enrolments');
  const { rows } = await client.query<{ first: string; last: string; total: string }>(
    `select min(id) as first, max(id) as last, count(*) as total from customers where org_id = $1`,
    [ORG_ID],
  );
  const { first, last, total } = rows[0]!;
  if (Number(total) !== count || Number(last) - Number(first) + 1 !== count) {
    throw new Error(`seeded customer ids are not consecutive (${first}..${last}, ${total} rows)`);
  }
  return Number(first);
}

export async function countMemberships(client: SqlClient): Promise<number> {
  const { rows } = await client.query<{ total: string }>('select count(*) as total from memberships');
  return Number(rows[0]!.total);
}

export async function partnerProgramId(client: pg.Client, name: string): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    'select id from partner_programs where org_id = $1 and name = $2',
    [ORG_ID, name],
  );
  if (!rows[0]) throw new Error(`partner program ${name} was not declared`);
  return Number(rows[0].id);
}

export async function postgresVersion(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ version: string }>('select version()');
  return rows[0]!.version;
}
