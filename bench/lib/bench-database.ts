import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ORG_ID = 1;
export const LOYALTY_PROGRAM_ID = 1;

/** The bench's own database: created empty here, migrated by the service when it starts. */
export interface BenchDatabase {
  name: string;
  url: string;
  /** What kind of server it was made on: on a Citus cluster, on every node, with Citus set up in it. */
  server: BenchServer;
  drop(): Promise<void>;
}

/** One node of a server, as its URL names it. */
export interface ServerNode {
  host: string;
  port: number;
}

/**
 * The server a server-level URL names: plain PostgreSQL (a server with the `citus` extension but
 * no worker in `pg_dist_node` counts as one: a database made there is a plain one), or a Citus
 * coordinator with its primary workers.
 */
export type BenchServer = { kind: 'postgres' } | { kind: 'citus'; coordinator: ServerNode; workers: ServerNode[] };

/**
 * Tells PostgreSQL from a Citus coordinator, in the server-level database of `serverUrl`: the
 * `citus` extension installed there, and primary workers (group other than 0) in its
 * `pg_dist_node`. The coordinator is named as the workers' metadata names it (its own row, group
 * 0), else as `serverUrl` does.
 */
export async function describeServer(serverUrl: string): Promise<BenchServer> {
  return withClient(serverUrl, async (client) => {
    const { rows } = await client.query<{ citus: boolean }>(
      "select exists (select 1 from pg_extension where extname = 'citus') as citus",
    );
    if (!rows[0]?.citus) return { kind: 'postgres' };
    const nodes = await client.query<{ groupid: number; nodename: string; nodeport: number }>(
      "select groupid, nodename, nodeport from pg_dist_node where noderole = 'primary' order by groupid, nodeid",
    );
    const workers = nodes.rows.filter((n) => n.groupid !== 0).map((n) => ({ host: n.nodename, port: n.nodeport }));
    if (workers.length === 0) return { kind: 'postgres' };
    // A worker's metadata lists the nodes too (Citus syncs it): only the coordinator, group 0, makes databases.
    const local = await client.query<{ groupid: number }>('select groupid from pg_dist_local_group');
    if (local.rows[0]?.groupid !== 0)
      throw new Error(`${redacted(serverUrl)} is a Citus worker: point the bench at the coordinator`);
    const own = nodes.rows.find((n) => n.groupid === 0);
    const url = new URL(serverUrl);
    const coordinator = own
      ? { host: own.nodename, port: own.nodeport }
      : { host: url.hostname, port: Number(url.port || 5432) };
    return { kind: 'citus', coordinator, workers };
  });
}

/**
 * A new database `pp_bench_<random>` on the server of `serverUrl`, and its URL (the same user,
 * host and options).
 *
 * With `template`, a copy of what it holds: a seeded data set copied takes seconds where seeding
 * it again takes minutes. `strategy file_copy` copies the files after a checkpoint instead of
 * writing every page to the WAL (PostgreSQL 15's default), the faster way for gigabytes. Nobody
 * may be connected to the template meanwhile. PostgreSQL only: a copy on Citus would need every
 * node's copied together, with no write in between.
 *
 * On a Citus coordinator, the database is made as a Citus database is made (as
 * `../shared/citus/cluster.sh createdb` makes one): `create database` on the coordinator and on
 * every worker, `create extension citus` in it on every node, then, in it on the coordinator,
 * `citus_set_coordinator_host` and `citus_add_node` for each worker. The service's migration 0006
 * then finds the extension and distributes the tables by org_id.
 */
export async function createBenchDatabase(serverUrl: string, template?: BenchDatabase): Promise<BenchDatabase> {
  const name = `pp_bench_${randomBytes(4).toString('hex')}`;
  const server = await describeServer(serverUrl);
  const url = withDatabase(serverUrl, name);
  if (server.kind === 'postgres') {
    const copy = template ? ` template ${template.name} strategy file_copy` : '';
    await onServer(serverUrl, `create database ${name}${copy}`);
    return {
      name,
      url,
      server,
      // `with (force)` ends connections a killed service may have left behind.
      drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
    };
  }
  if (template)
    throw new Error(
      `a copy of a bench database (template ${template.name}) is made on PostgreSQL only, ` +
        `and ${redacted(serverUrl)} is a Citus coordinator: point BENCH_DATABASE_URL at a PostgreSQL server`,
    );
  // The coordinator by serverUrl (its user, password and options); each worker by its metadata's host and port.
  const nodeUrls = [serverUrl, ...server.workers.map((worker) => onNode(serverUrl, worker))];
  const drop = async () => {
    const failures: string[] = [];
    for (const nodeUrl of nodeUrls) {
      try {
        await onServer(nodeUrl, `drop database if exists ${name} with (force)`);
      } catch (error) {
        failures.push(`${redacted(nodeUrl)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`drop database ${name} failed on ${failures.join('; ')}`);
  };
  try {
    for (const nodeUrl of nodeUrls) {
      await onServer(nodeUrl, `create database ${name}`);
      await onServer(withDatabase(nodeUrl, name), 'create extension citus');
    }
    await withClient(url, async (client) => {
      const { host, port } = server.coordinator;
      await client.query('select citus_set_coordinator_host($1, $2)', [host, port]);
      for (const worker of server.workers)
        await client.query('select citus_add_node($1, $2)', [worker.host, worker.port]);
    });
  } catch (error) {
    // Half made (on some nodes, or with no workers added): gone again, so that nothing is left behind.
    await drop().catch(() => undefined);
    throw error;
  }
  return { name, url, server, drop };
}

/** `serverUrl` with another database in its path. */
function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** `serverUrl` (user, password, database, options) at another node's host and port. */
function onNode(serverUrl: string, node: ServerNode): string {
  const url = new URL(serverUrl);
  url.hostname = node.host;
  url.port = String(node.port);
  return url.toString();
}

/** The URL without its password, for messages. */
export function redacted(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

async function withClient<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(statement));
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

/** The org's memberships (the bench's only org): named by org_id, so that on Citus the count reads one shard. */
export async function countMemberships(client: SqlClient): Promise<number> {
  const { rows } = await client.query<{ total: string }>(
    'select count(*) as total from memberships where org_id = $1',
    [ORG_ID],
  );
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

/**
 * Citus's own description (`citus_version()`) and the nodes the bench database spans, for the
 * report; undefined for a database on PostgreSQL.
 */
export async function citusVersion(client: pg.Client, server: BenchServer): Promise<string | undefined> {
  if (server.kind !== 'citus') return undefined;
  const { rows } = await client.query<{ version: string }>('select citus_version() as version');
  const node = ({ host, port }: ServerNode) => `${host}:${port}`;
  return (
    `${rows[0]!.version}; coordinator ${node(server.coordinator)}, ` +
    `${server.workers.length} workers ${server.workers.map(node).join(', ')}`
  );
}
