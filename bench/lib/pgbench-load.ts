import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ORG_ID } from './bench-database.js';
import { linkBatchStatement } from './raw-sql-load.js';
import { BATCH_SIZE } from './settings.js';

/**
 * Hands out batch numbers to pgbench's transactions: the n-th `nextval` (from 0) is the n-th
 * slot of LinkSlots, i.e. program `n / batches_per_program`, customers from
 * `(n % batches_per_program) × BATCH_SIZE`. A sequence, because pgbench has no counter of its own
 * that is shared by its clients, and one `nextval` is never handed out twice.
 */
const SEQUENCE = 'bench_pgbench_batches';

/**
 * The raw SQL run's statement (linkBatchStatement), its values taken from the sequence rather than
 * bound by node: one statement per transaction, as the raw run sends one per batch. The rest of
 * the batch's description comes from pgbench variables (-D), so the script is the same for every
 * database: `programs` (ids, comma-separated, in LinkSlots order), `batches_per_program`
 * (customers / BATCH_SIZE) and `first_customer_id` (the id of customer 0).
 */
function pgbenchScript(): string {
  const statement = linkBatchStatement({
    ctes: `slot as materialized (
    select (string_to_array(:programs, ',')::bigint[])[n / :batches_per_program::bigint + 1] as program_id,
      n % :batches_per_program::bigint * ${BATCH_SIZE} as first
    from (select nextval('${SEQUENCE}') as n) as taken
  ),
  `,
    org: String(ORG_ID),
    program: '(select program_id from slot)',
    customers: `(
      select :first_customer_id::bigint + slot.first + i, 'P-' || (slot.first + i)
      from slot, generate_series(0, ${BATCH_SIZE - 1}) as i
    ) as c(customer_id, membership_id)`,
  });
  return `-- Written by bench/lib/pgbench-load.ts from the raw SQL run's statement; see bench/README.md.${statement};\n`;
}

/** The script where a rerun by hand finds it after the bench: bench/results/ is kept, git-ignored. */
const SCRIPT_PATH = fileURLToPath(new URL('../results/pgbench-link-batch.sql', import.meta.url));

/** Why pgbench cannot run (not on PATH, or not starting), or undefined when it can. */
export function pgbenchMissing(): string | undefined {
  const probe = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return 'pgbench is not on PATH';
  if (probe.error) return `pgbench cannot run: ${probe.error.message}`;
  return probe.status === 0 ? undefined : `pgbench --version exited with code ${probe.status}`;
}

/** One pgbench run at one level, as reported and saved. */
export interface PgbenchRun {
  connections: number;
  /** The command as it ran (the password, if any, was passed in PGPASSWORD), to rerun by hand. */
  command: string;
  /** Transactions pgbench processed, of those asked for (`-c` × `-t`); each is one batch. */
  processed: number;
  requested: number;
  failed: number;
  /** pgbench's own tps, without the connection time; seconds = processed / tps. */
  tps: number;
  seconds: number;
  linksPerSecond: number;
  latencyAverageMs: number;
  memberships: { added: number; expected: number };
  firstFailure?: string;
}

export function pgbenchVerified(run: PgbenchRun): boolean {
  return run.processed === run.requested && run.failed === 0 && run.memberships.added === run.memberships.expected;
}

/**
 * pgbench for the bench's database: the script written once, the sequence created, and a level
 * runner that gives each level an equal share of the sequence's slots that are left.
 */
export class Pgbench {
  private constructor(
    private readonly admin: pg.Client,
    private readonly databaseUrl: string,
    /** Slots of all programs together: the sequence's values that map to a (program, customers) pair. */
    private readonly capacity: number,
    private readonly variables: Record<string, string>,
  ) {}

  static async prepare(options: {
    admin: pg.Client;
    databaseUrl: string;
    programIds: readonly number[];
    customers: number;
    firstCustomerId: number;
  }): Promise<Pgbench> {
    mkdirSync(dirname(SCRIPT_PATH), { recursive: true });
    writeFileSync(SCRIPT_PATH, pgbenchScript());
    await options.admin.query(`create sequence ${SEQUENCE} minvalue 0 start with 0`);
    const batchesPerProgram = Math.floor(options.customers / BATCH_SIZE);
    return new Pgbench(options.admin, options.databaseUrl, options.programIds.length * batchesPerProgram, {
      programs: options.programIds.join(','),
      batches_per_program: String(batchesPerProgram),
      first_customer_id: String(options.firstCustomerId),
    });
  }

  /**
   * As many transactions as the service's batches at this level (the same work, as the raw SQL
   * run), within this level's share, in whole `-t` per client; undefined when not one each is left.
   */
  async measureLevel(level: {
    connections: number;
    levelsLeft: number;
    serviceBatches: number | undefined;
    countMemberships: () => Promise<number>;
  }): Promise<PgbenchRun | undefined> {
    const { connections } = level;
    const share = Math.floor((this.capacity - (await this.slotsUsed())) / level.levelsLeft);
    const perClient = Math.floor(Math.min(level.serviceBatches ?? share, share) / connections);
    if (perClient < 1) return undefined;

    const { args, env, command } = this.commandLine(connections, perClient);
    const before = await level.countMemberships();
    const output = await runPgbench(args, env);
    const added = (await level.countMemberships()) - before;
    const summary = parseSummary(output.stdout);
    if (!summary) throw new Error(`pgbench exited with code ${output.code} and no summary: ${output.stderr.trim()}`);
    return {
      connections,
      command,
      ...summary,
      seconds: summary.tps > 0 ? summary.processed / summary.tps : 0,
      linksPerSecond: summary.tps * BATCH_SIZE,
      memberships: { added, expected: BATCH_SIZE * summary.processed },
      firstFailure: output.code === 0 ? undefined : `exit code ${output.code}: ${output.stderr.trim().slice(0, 300)}`,
    };
  }

  /** Slots taken so far, failed transactions' included: their `nextval` is not given back. */
  private async slotsUsed(): Promise<number> {
    const { rows } = await this.admin.query<{ used: string }>(
      `select case when is_called then last_value + 1 else 0 end as used from ${SEQUENCE}`,
    );
    return Number(rows[0]!.used);
  }

  /**
   * `-n`: no vacuum of pgbench's own tables (there are none); `-M prepared`: each client parses
   * the statement once. The URL without its password, which goes in PGPASSWORD, so the command
   * can be printed and saved as it ran.
   */
  private commandLine(connections: number, perClient: number) {
    const url = new URL(this.databaseUrl);
    const password = decodeURIComponent(url.password);
    url.password = '';
    const args = [
      '-n',
      '-M',
      'prepared',
      '-f',
      relative(process.cwd(), SCRIPT_PATH),
      '-c',
      String(connections),
      '-j',
      String(connections),
      '-t',
      String(perClient),
      ...Object.entries(this.variables).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
      url.toString(),
    ];
    const env = password ? { ...process.env, PGPASSWORD: password } : process.env;
    return { args, env, command: ['pgbench', ...args].join(' ') };
  }
}

function runPgbench(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The figures of pgbench's summary (PostgreSQL 15's wording). A run aborted by an error still
 * prints them, with fewer transactions processed than requested; none at all means it never ran.
 */
function parseSummary(
  stdout: string,
): Pick<PgbenchRun, 'processed' | 'requested' | 'failed' | 'tps' | 'latencyAverageMs'> | undefined {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(stdout);
    return match ? Number(match[1]) : undefined;
  };
  const processed = /number of transactions actually processed: (\d+)\/(\d+)/.exec(stdout);
  const tps = number(/^tps = ([\d.]+)/m);
  if (!processed || tps === undefined) return undefined;
  return {
    processed: Number(processed[1]),
    requested: Number(processed[2]),
    failed: number(/number of failed transactions: (\d+)/) ?? 0,
    tps,
    latencyAverageMs: number(/latency average = ([\d.]+) ms/) ?? 0,
  };
}
