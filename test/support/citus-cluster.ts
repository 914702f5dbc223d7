import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * The local Citus cluster the citus test project runs on: its coordinator (CITUS_URL, default the
 * cluster script's 127.0.0.1:5433) and the workers its metadata lists. Databases are made the way
 * Citus wants them: on every node, each with the extension, the workers added on the coordinator.
 */
export const citusUrl = process.env.CITUS_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';

/** Where the cluster script may be: CITUS_CLUSTER, else the machine's shared tooling beside the project. */
function clusterScript(): string | undefined {
  const candidates = [
    process.env.CITUS_CLUSTER,
    fileURLToPath(new URL('../../../shared/citus/cluster.sh', import.meta.url)),
  ];
  return candidates.find((path): path is string => path !== undefined && existsSync(path));
}

/** The test's own admin sessions: none of the service's connection settings (PGOPTIONS). */
function client(url: string): pg.Client {
  return new pg.Client({ connectionString: url, options: '-c client_min_messages=warning' });
}

async function onNode<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = client(url);
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The vitest global setup of the citus project: the cluster answers, or is started by its script. */
export default async function ensureCitusCluster(): Promise<void> {
  if (await reachable()) return;
  const script = clusterScript();
  if (!script)
    throw new Error(
      `No Citus coordinator answers at ${citusUrl} and no cluster script was found to start one ` +
        '(set CITUS_URL to a running coordinator, or CITUS_CLUSTER to cluster.sh)',
    );
  const env = { ...process.env };
  delete env.PGOPTIONS;
  await promisify(execFile)('bash', [script, 'start'], { env, maxBuffer: 1 << 20 });
}

async function reachable(): Promise<boolean> {
  try {
    await onNode(citusUrl, (c) => c.query('select citus_version()'));
    return true;
  } catch {
    return false;
  }
}

/** Every node's server-level URL: the coordinator's first, then the active workers'. */
async function nodeUrls(): Promise<{ coordinator: URL; workers: URL[] }> {
  const coordinator = new URL(citusUrl);
  const { rows } = await onNode(citusUrl, (c) =>
    c.query<{ nodename: string; nodeport: number }>(
      "select nodename, nodeport from pg_dist_node where groupid <> 0 and noderole = 'primary' and isactive order by nodeport",
    ),
  );
  const workers = rows.map((row) => {
    const url = new URL(citusUrl);
    url.hostname = row.nodename;
    url.port = String(row.nodeport);
    return url;
  });
  return { coordinator, workers };
}

/** A new database with Citus set up on every node; its coordinator URL. */
export async function createCitusDatabase(name: string): Promise<string> {
  const { coordinator, workers } = await nodeUrls();
  for (const node of [coordinator, ...workers]) {
    await onNode(node.toString(), (c) => c.query(`create database ${name}`));
    await onNode(withDatabase(node.toString(), name), (c) => c.query('create extension citus'));
  }
  const url = withDatabase(citusUrl, name);
  await onNode(url, async (c) => {
    await c.query('select citus_set_coordinator_host($1, $2)', [coordinator.hostname, Number(coordinator.port)]);
    for (const worker of workers)
      await c.query('select citus_add_node($1, $2)', [worker.hostname, Number(worker.port)]);
  });
  return url;
}

export async function dropCitusDatabase(name: string): Promise<void> {
  const { coordinator, workers } = await nodeUrls();
  for (const node of [coordinator, ...workers])
    await onNode(node.toString(), (c) => c.query(`drop database if exists ${name} with (force)`));
}
