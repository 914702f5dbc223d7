/**
 * Bulk link benchmark: `npm run bench:cli`. `partner-programs link` as its own process against
 * the service on PostgreSQL, beside the same batches sent by autocannon at the same concurrency:
 * the share of the plain HTTP load's rate the command reaches, and the command's peak memory.
 * See bench/README.md (BENCH_CLI_ROWS, BENCH_CLI_CONCURRENCY).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse } from 'csv-parse';
import { LinkSlots } from './lib/batches.js';
import {
  citusVersion,
  countMemberships,
  createBenchDatabase,
  mobileOf,
  postgresVersion,
  seedCustomers,
} from './lib/bench-database.js';
import { Cleanup, withCleanup } from './lib/cleanup.js';
import { runLinkRequests } from './lib/http-load.js';
import { describeMachine, type Machine } from './lib/machine.js';
import { HTTP_PROGRAMS, linuxCpuSeconds, startService, TILL, writeConfigFile } from './lib/service.js';
import { BATCH_SIZE, positiveInteger, readSettings } from './lib/settings.js';

const RESULTS = new URL('./results/', import.meta.url);
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Goals of SPEC §2a's bulk link: near the plain HTTP load's rate, in constant memory. */
const GOAL_RATIO = 0.9;
const GOAL_PEAK_MB = 150;

interface CliRun {
  exitCode: number | null;
  /** The command's own time, from its summary line (`… in 212 s`): start-up excluded. */
  seconds: number;
  wallSeconds: number;
  peakRssMb: number | undefined;
  /** CPU seconds the command's process used (Linux), start-up included: it shares the cores with the service. */
  cpuSeconds: number | undefined;
  summary: string;
  resultRows: number;
  succeededRows: number;
}

interface CliBenchReport {
  finishedAt: string;
  machine: Machine;
  rows: number;
  concurrency: number;
  cli: CliRun & { rowsPerSecond: number };
  http: { batches: number; seconds: number; rowsPerSecond: number; failed: number; errors: number };
  cliToHttp: number;
  /** Memberships both runs added, against what their successes should have written. */
  memberships: { added: number; expected: number };
}

async function runBench(cleanup: Cleanup): Promise<void> {
  const { serverUrl } = readSettings(process.env);
  const rows = positiveInteger('BENCH_CLI_ROWS', process.env.BENCH_CLI_ROWS ?? '100000');
  const concurrency = positiveInteger('BENCH_CLI_CONCURRENCY', process.env.BENCH_CLI_CONCURRENCY ?? '4');
  const batches = Math.ceil(rows / BATCH_SIZE);
  const configFile = writeConfigFile();
  cleanup.add('remove the config file', configFile.remove);

  // Each side on fresh data of its own: a second run against the first one's tables is slower
  // for that alone (measured: about 20% at 20,000 rows), which would skew the ratio.
  progress(`autocannon: ${batches} batches, ${concurrency} connections`);
  const http = await onFreshDatabase(serverUrl, configFile.path, rows, concurrency, cleanup, async (address) => {
    const run = await runLinkRequests(address, concurrency, batches, new LinkSlots([HTTP_PROGRAMS[0]!], rows), true);
    return { run, expected: run.ok * BATCH_SIZE };
  });

  const file = join(tmpdir(), `pp-bench-cli-${process.pid}.csv`);
  const out = join(tmpdir(), `pp-bench-cli-${process.pid}.result.csv`);
  cleanup.add('remove the CSV files', async () => {
    rmSync(file, { force: true });
    rmSync(out, { force: true });
  });
  await writeMembersFile(file, rows, HTTP_PROGRAMS[0]!);
  progress(`partner-programs link: ${rows} rows, --concurrency ${concurrency}`);
  const cli = await onFreshDatabase(serverUrl, configFile.path, rows, concurrency, cleanup, async (address) => {
    const run = await runLinkCommand(file, out, concurrency, address);
    return { run, expected: run.succeededRows };
  });

  const cliRate = rows / cli.run.seconds;
  const httpRate = (http.run.ok * BATCH_SIZE) / http.run.seconds;
  const report: CliBenchReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(cli.postgres, cli.citus),
    rows,
    concurrency,
    cli: { ...cli.run, rowsPerSecond: cliRate },
    http: {
      batches: http.run.responses,
      seconds: http.run.seconds,
      rowsPerSecond: httpRate,
      failed: http.run.responses - http.run.ok,
      errors: http.run.errors,
    },
    cliToHttp: cliRate / httpRate,
    memberships: { added: cli.added + http.added, expected: rows + http.run.ok * BATCH_SIZE },
  };
  // A Citus run keeps its own file, so that it does not replace the last run on PostgreSQL.
  const jsonPath = new URL(cli.citus ? 'cli-latest-citus.json' : 'cli-latest.json', RESULTS);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${formatCliReport(report)}\n\nwritten to ${jsonPath.pathname}`);
  const verified =
    cli.run.exitCode === 0 &&
    cli.run.succeededRows === rows &&
    report.http.failed === 0 &&
    report.http.errors === 0 &&
    report.memberships.added === report.memberships.expected;
  if (!verified) process.exitCode = 1;
}

/**
 * A database of its own with `rows` seeded customers and the service on it (ROLE=api: no
 * scheduler sweeping beside the load), an untimed warm-up, then `work`; all removed afterwards.
 */
async function onFreshDatabase<T extends { run: unknown; expected: number }>(
  serverUrl: string,
  configFile: string,
  rows: number,
  concurrency: number,
  cleanup: Cleanup,
  work: (address: string) => Promise<T>,
): Promise<T & { added: number; postgres: string; citus: string | undefined }> {
  const local = new Cleanup();
  const database = await createBenchDatabase(serverUrl);
  local.add(`drop database ${database.name}`, database.drop);
  cleanup.add(`drop database ${database.name}`, () => local.runAll());
  try {
    const service = await startService({
      mode: 'child',
      databaseUrl: database.url,
      configFile,
      cpuProfileDir: undefined,
      env: { ROLE: 'api' },
    });
    local.add('stop the service', service.stop);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    local.add('close the admin connection', () => admin.end());
    await seedCustomers(admin, rows);
    // Warm-up on a program the measured run does not use: JIT, the first scrypt check, pool connections.
    const warmUp = Math.min(20, Math.floor(rows / BATCH_SIZE));
    await runLinkRequests(service.address, concurrency, warmUp, new LinkSlots([HTTP_PROGRAMS[2]!], rows), true);
    const before = await countMemberships(admin);
    const done = await work(service.address);
    const added = (await countMemberships(admin)) - before;
    const gone = service.exitReason();
    if (gone) throw new Error(`the service ${gone} during the run`);
    return {
      ...done,
      added,
      postgres: await postgresVersion(admin),
      citus: await citusVersion(admin, database.server),
    };
  } finally {
    await local.runAll();
  }
}

/** `rows` distinct seeded customers, each to `program`, streamed to disk. */
async function writeMembersFile(path: string, rows: number, program: string): Promise<void> {
  const file = createWriteStream(path);
  file.write('mobile,partnerProgramName,partnerMembershipId\n');
  for (let i = 0; i < rows; i++) {
    if (!file.write(`${mobileOf(i)},${program},M-${i}\n`)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
}

/** Runs the command as `npx partner-programs` runs it (its bin, no build), polling its peak RSS (VmHWM) until it exits. */
async function runLinkCommand(file: string, out: string, concurrency: number, url: string): Promise<CliRun> {
  const startedAt = performance.now();
  // Executed, not handed to node: its own shebang line sets the V8 flags it runs with.
  const child = spawn(
    join(REPO, 'bin/partner-programs.js'),
    ['link', file, '--out', out, '--concurrency', String(concurrency), '--url', url],
    {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PP_USERNAME: TILL.username,
        PP_PASSWORD: TILL.password,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let peakKb: number | undefined;
  let cpuSeconds: number | undefined;
  const poll = setInterval(() => {
    const kb = peakRssKb(child.pid);
    if (kb !== undefined) peakKb = Math.max(peakKb ?? 0, kb);
    cpuSeconds = linuxCpuSeconds(child.pid) ?? cpuSeconds;
  }, 50);
  const [exitCode] = (await once(child, 'close')) as [number | null];
  clearInterval(poll);
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const summary = stderr.trim().split('\n').at(-1) ?? '';
  const seconds = Number(/ in ([\d.,]+) s$/.exec(summary)?.[1]?.replaceAll(',', '') ?? wallSeconds);
  const { resultRows, succeededRows } = await countResults(out);
  return {
    exitCode,
    seconds,
    wallSeconds,
    peakRssMb: peakKb === undefined ? undefined : peakKb / 1024,
    cpuSeconds,
    summary,
    resultRows,
    succeededRows,
  };
}

/** VmHWM (the peak resident set) from /proc on Linux; undefined elsewhere or once the process is gone. */
function peakRssKb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function countResults(path: string): Promise<{ resultRows: number; succeededRows: number }> {
  let resultRows = 0;
  let succeededRows = 0;
  try {
    for await (const record of createReadStreamParsed(path)) {
      resultRows += 1;
      if ((record as string[])[4] === '200') succeededRows += 1;
    }
  } catch {
    // no result file: the counts say so
  }
  return { resultRows, succeededRows };
}

function createReadStreamParsed(path: string): AsyncIterable<unknown> {
  return createReadStream(path).pipe(parse({ from_line: 2 }));
}

function formatCliReport(report: CliBenchReport): string {
  const { machine, cli, http } = report;
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const peak = cli.peakRssMb === undefined ? 'unknown (no /proc)' : `${cli.peakRssMb.toFixed(0)} MB`;
  return [
    `Bulk link: ${report.rows.toLocaleString('en-US')} rows of distinct customers, concurrency ${report.concurrency}, batches of ${BATCH_SIZE}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
    `database: ${machine.postgres}`,
    ...(machine.citus ? [`Citus: ${machine.citus}`] : []),
    '',
    `partner-programs link: ${cli.rowsPerSecond.toFixed(0)} rows/s (${cli.seconds.toFixed(1)} s of its own, ${cli.wallSeconds.toFixed(1)} s with start-up), peak RSS ${peak}, ${cli.cpuSeconds?.toFixed(1) ?? '?'} CPU s, exit ${cli.exitCode}`,
    `  ${cli.summary}`,
    `autocannon, same batches:  ${http.rowsPerSecond.toFixed(0)} rows/s (${http.batches} batches in ${http.seconds.toFixed(1)} s, non-200 ${http.failed}, errors ${http.errors})`,
    '',
    `command / autocannon: ${report.cliToHttp.toFixed(3)} (goal >= ${GOAL_RATIO}): ${mark(report.cliToHttp >= GOAL_RATIO)}`,
    `peak RSS: ${peak} (goal < ${GOAL_PEAK_MB} MB): ${mark(cli.peakRssMb !== undefined && cli.peakRssMb < GOAL_PEAK_MB)}`,
    `memberships +${report.memberships.added}, expected ${report.memberships.expected}: ${mark(report.memberships.added === report.memberships.expected)}`,
    `result rows ${cli.resultRows}, of which 200: ${cli.succeededRows}: ${mark(cli.succeededRows === report.rows)}`,
  ].join('\n');
}

function progress(message: string): void {
  console.error(`[bench:cli] ${message}`);
}

await withCleanup(progress, runBench);
