import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminPost,
  BULK_LOYALTY_PROGRAM,
  BULK_OAUTH,
  BULK_ORG,
  BULK_TILL,
  bulkMobile,
  readCsv,
  recordingProxy,
  runBulkCli,
  writeBulkConfig,
} from '../support/bulk.js';
import { runCli, startService, tempDir, type ServiceProcess } from '../support/process.js';
import { TEST_ADMIN_TOKEN } from '../support/server.js';
import { ServiceStorage } from '../support/storage.js';

// SPEC §2a `link`, as a user runs it: the service and the command each a real process, real
// HTTP between them, the service's database checked at the end.
let folder: string;
let storage: ServiceStorage;
let service: ServiceProcess | undefined;
// Started first, as it takes its whole retry schedule to give up; awaited in its own test.
let unreachable: { started: number; ended?: number; run: ReturnType<typeof runCli> };

const serviceEnv = () => ({
  ...storage.env,
  CONFIG_FILE: join(folder, 'config.yaml'),
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  ALLOW_CLOCK_OVERRIDE: 'true',
});

beforeAll(async () => {
  folder = tempDir('pp-cli-link-');
  writeBulkConfig(folder, 10);
  writeFileSync(join(folder, 'one.csv'), `mobile,partnerProgramName\n${bulkMobile(1)},Plain\n`);
  unreachable = {
    started: performance.now(),
    run: runCli(
      ['link', join(folder, 'one.csv'), '--url', 'http://127.0.0.1:9', '--out', join(folder, 'none.csv')],
      BULK_TILL,
    ),
  };
  void unreachable.run.exited.then(() => (unreachable.ended = performance.now()));
  storage = await ServiceStorage.create(folder);
  service = await startService(serviceEnv());
}, 60_000);

afterAll(async () => {
  unreachable?.run.child.kill('SIGKILL');
  await service?.stop();
  await storage?.drop();
  rmSync(folder, { recursive: true, force: true });
});

const link = (args: string[], env: Record<string, string> = BULK_TILL, url = service!.url) =>
  runBulkCli(['link', ...args, '--url', url], env);

describe('link FILE.csv', () => {
  it('answers every row in input order, with the codes the API gives, and a summary line', async () => {
    const file = join(folder, 'mixed.csv');
    // Header in another order and case, a BOM, a quoted cell with a comma, a malformed row.
    writeFileSync(
      file,
      '\ufeffPartnerProgramName,MOBILE,partnerMembershipId,partnertiername,partnerTierExpiryDate\r\n' +
        `Gold,${bulkMobile(1)},G-1,Gold,2099-12-31\r\n` +
        `Plain,${bulkMobile(1)},P-1,,\r\n` +
        `NoSuchProgram,${bulkMobile(2)},X-1,,\r\n` +
        `Gold,${bulkMobile(2)},G-2,Diamond,\r\n` +
        `Gold,${bulkMobile(3)},G-3,,31/12/2099\r\n` +
        `Gold,919999999999,G-4,,\r\n` +
        `Gold,${bulkMobile(4)},"G-5, quoted",,\r\n` +
        `Gold,${bulkMobile(5)}\r\n` +
        `Gold,${bulkMobile(1)},G-1,,\r\n`,
    );
    const run = await link([file]);
    expect(run.code, run.stderr).toBe(1);
    const rows = readCsv(join(folder, 'mixed.result.csv'));
    expect(rows[0]).toEqual([
      'PartnerProgramName',
      'MOBILE',
      'partnerMembershipId',
      'partnertiername',
      'partnerTierExpiryDate',
      'customerCode',
      'code',
      'message',
    ]);
    expect(rows.slice(1).map((row) => [row[0], row[1], row[5], row[6], row[7]])).toEqual([
      ['Gold', bulkMobile(1), '1000', '200', 'Success'],
      ['Plain', bulkMobile(1), '1000', '200', 'Success'],
      ['NoSuchProgram', bulkMobile(2), '1000', '2006', 'Partner program not found'],
      ['Gold', bulkMobile(2), '1000', '2007', 'Partner program tier not found'],
      ['Gold', bulkMobile(3), '1000', '2024', 'Invalid date format'],
      ['Gold', '919999999999', '1011', '1011', 'Cannot find customer for provided identifier'],
      ['Gold', bulkMobile(4), '1000', '200', 'Success'],
      ['Gold', bulkMobile(5), '', '400', 'Malformed row: 2 cells, the header has 5'],
      ['Gold', bulkMobile(1), '1000', '2005', 'Partner program already linked with customer'],
    ]);
    expect(rows[7]![2]).toBe('G-5, quoted');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^9 rows: 3 succeeded, 6 failed \(1011 × 1, 2005 × 1, 2006 × 1, 2007 × 1, 2024 × 1, 400 × 1\) in [\d.]+ s$/,
      ),
    ]);
    expect(run.stdout).toBe('');
  }, 60_000);

  it('sends consecutive rows of one customer as one item, over OAuth', async () => {
    const proxy = await recordingProxy(() => service!.url);
    try {
      const file = join(folder, 'grouped.csv');
      writeFileSync(
        file,
        'mobile,partnerProgramName,partnerMembershipId\n' +
          `${bulkMobile(6)},Gold,G-6\n${bulkMobile(6)},Plain,P-6\n${bulkMobile(7)},Plain,P-7\n${bulkMobile(6)},Bulk,B-6\n`,
      );
      const run = await link([file, '--out', join(folder, 'grouped-result.csv')], BULK_OAUTH, proxy.url);
      expect(run.code, run.stderr).toBe(0);
      const sent = proxy.bodies.filter((body) => (body as { linkCustomers: unknown[] }).linkCustomers.length > 0);
      expect(sent).toEqual([
        {
          linkCustomers: [
            {
              customer: { mobile: bulkMobile(6) },
              linkToPartnerPrograms: [
                { partnerProgramName: 'Gold', customerPartnerReference: { partnerMembershipId: 'G-6' } },
                { partnerProgramName: 'Plain', customerPartnerReference: { partnerMembershipId: 'P-6' } },
              ],
            },
            {
              customer: { mobile: bulkMobile(7) },
              linkToPartnerPrograms: [
                { partnerProgramName: 'Plain', customerPartnerReference: { partnerMembershipId: 'P-7' } },
              ],
            },
            {
              customer: { mobile: bulkMobile(6) },
              linkToPartnerPrograms: [
                { partnerProgramName: 'Bulk', customerPartnerReference: { partnerMembershipId: 'B-6' } },
              ],
            },
          ],
        },
      ]);
      // And the service holds what the rows say: customer 6 in three programs.
      const view = await fetch(
        `${service!.url}/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${bulkMobile(6)}`,
        {
          headers: {
            authorization: `Basic ${Buffer.from(`${BULK_TILL.PP_USERNAME}:${md5(BULK_TILL.PP_PASSWORD)}`).toString('base64')}`,
          },
        },
      );
      const programs = ((await view.json()) as { linkedPartnerPrograms: Array<{ partnerProgramName: string }> })
        .linkedPartnerPrograms;
      expect(programs.map((p) => p.partnerProgramName).sort()).toEqual(['Bulk', 'Gold', 'Plain']);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('renews an OAuth token that the service stops accepting mid-run, and carries on', async () => {
    const moveClock = async (body: object | undefined) => {
      const answer = await fetch(`${service!.url}/admin/v1/clock`, {
        method: body ? 'PUT' : 'DELETE',
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      expect(answer.status, await answer.text()).toBe(200);
    };
    let links = 0;
    // The probe, the first batch, then the service's clock jumps past the token's hour of life.
    const proxy = await recordingProxy(
      () => service!.url,
      async (path) => {
        if (path.startsWith('/v2/partnerProgram/linkCustomer') && ++links === 3) {
          await moveClock({ now: new Date(new Date().getTime() + 2 * 3_600_000).toISOString() });
        }
      },
    );
    try {
      const file = join(folder, 'renewed.csv');
      const mobiles = Array.from({ length: 150 }, (_, i) => bulkMobile(50_001 + i));
      writeFileSync(file, `mobile,partnerProgramName\n${mobiles.map((m) => `${m},Plain`).join('\n')}\n`);
      const out = join(folder, 'renewed-result.csv');
      const run = await link([file, '--out', out, '--concurrency', '1'], BULK_OAUTH, proxy.url);
      // Unknown customers, every one answered by the API itself: none is left with the 401.
      const codes = readCsv(out)
        .slice(1)
        .map((row) => row[4]);
      expect(new Set(codes), run.stderr).toEqual(new Set([codes[0]]));
      expect(codes).toHaveLength(150);
      expect(codes[0]).not.toBe('401');
      const statuses = proxy.answers.map((a) => `${a.path.split('?')[0]} ${a.status}`);
      expect(statuses.filter((s) => s === '/v2/partnerProgram/linkCustomer 401')).toHaveLength(1);
      expect(statuses.filter((s) => s.startsWith('/v3/oauth/token/generate 200'))).toHaveLength(2);
    } finally {
      await moveClock(undefined);
      await proxy.close();
    }
  }, 60_000);

  it('after the service is killed mid-run, --resume applies every row exactly once', async () => {
    const rows = 3_000;
    for (let from = 0; from < rows; from += 1000) {
      await adminPost(service!.url, `/admin/v1/orgs/${BULK_ORG}/customers`, {
        customers: Array.from({ length: 1000 }, (_, i) => ({
          mobile: bulkMobile(1001 + from + i),
          loyaltyPrograms: [BULK_LOYALTY_PROGRAM],
        })),
      });
    }
    const file = join(folder, 'many.csv');
    const result = join(folder, 'many.result.csv');
    const lines = Array.from({ length: rows }, (_, i) => `${bulkMobile(1001 + i)},Bulk,M-${i}`);
    writeFileSync(file, `mobile,partnerProgramName,partnerMembershipId\n${lines.join('\n')}\n`);

    const first = runCli(['link', file, '--concurrency', '2', '--url', service!.url], BULK_TILL);
    await waitFor(() => existsSync(result) && readFileSync(result, 'utf8').split('\n').length > 300, 30_000);
    service!.child.kill('SIGKILL');
    await service!.exited;
    expect(await first.exited, first.stderr()).toBe(1);
    expect(first.stderr()).toMatch(/Stopped sending: .* answered no request/);
    const afterKill = readCsv(result).slice(1);
    expect(afterKill).toHaveLength(rows);
    expect(afterKill.filter((row) => row[4] === '0').length).toBeGreaterThan(0);

    service = await startService(serviceEnv());
    // The killed request's Idempotency-Key stays claimed for 120 s (docs/decisions.md): move the
    // clock past that instead of waiting.
    const moved = await fetch(`${service.url}/admin/v1/clock`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ now: new Date(new Date().getTime() + 180_000).toISOString() }),
    });
    expect(moved.status).toBe(200);
    const resumed = await link([file, '--concurrency', '2', '--resume']);
    expect(resumed.stderr).toMatch(/^3,000 rows: /);
    const final = readCsv(result).slice(1);
    expect(final.map((row) => row.slice(0, 3))).toEqual(lines.map((line) => line.split(',')));
    // A batch that committed just before the kill had its answer stored by the same transaction:
    // sent again, it is answered as the first time, 200, not "already linked".
    const codes = final.map((row) => row[4]);
    expect(codes.filter((code) => code !== '200')).toEqual([]);
    expect(readdirTemp(folder)).toEqual([]);

    await service.stop();
    const counts = await storage.use(async (db) => {
      const { rows: found } = await sql<{ memberships: string; enrolments: string }>`
        select (select count(*) from memberships m join partner_programs p on p.id = m.partner_program_id
                 where p.org_id = ${BULK_ORG} and p.name = 'Bulk' and m.partner_membership_id like 'M-%') as memberships,
               (select count(*) from membership_activities a join memberships m on m.id = a.membership_id
                  join partner_programs p on p.id = m.partner_program_id
                 where p.org_id = ${BULK_ORG} and p.name = 'Bulk' and m.partner_membership_id like 'M-%'
                   and a.activity_type = 'ENROLLMENT') as enrolments`.execute(db);
      return found[0]!;
    });
    expect(Number(counts.memberships)).toBe(rows);
    expect(Number(counts.enrolments)).toBe(rows);
    service = await startService(serviceEnv());
  }, 120_000);

  it('cannot run with wrong credentials, a missing file, or both kinds of credentials: exit 2, saying why', async () => {
    const file = join(folder, 'one.csv');
    const [wrong, missing, both, noIdentifier] = await Promise.all([
      link([file, '--out', join(folder, 'wrong.csv')], { ...BULK_TILL, PP_PASSWORD: 'not-the-password' }),
      link([join(folder, 'missing.csv')]),
      link([file, '--out', join(folder, 'both.csv')], { ...BULK_TILL, ...BULK_OAUTH }),
      (async () => {
        writeFileSync(join(folder, 'no-id.csv'), 'partnerProgramName\nPlain\n');
        return link([join(folder, 'no-id.csv')]);
      })(),
    ]);
    expect([wrong.code, missing.code, both.code, noIdentifier.code]).toEqual([2, 2, 2, 2]);
    expect(wrong.stderr).toMatch(/^Cannot run: .* refused the credentials of PP_USERNAME \/ PP_PASSWORD/);
    expect(missing.stderr).toMatch(/^Cannot run: .*missing\.csv: no such file\n$/);
    expect(both.stderr).toMatch(/^Cannot run: both till .* and OAuth .* credentials are set/);
    expect(noIdentifier.stderr).toMatch(/^Cannot run: .* no identifier column/);
    expect(existsSync(join(folder, 'wrong.csv'))).toBe(false);
  }, 60_000);

  it('gives up on a service that answers nothing: exit 2 within 30 s', async () => {
    const code = await unreachable.run.exited;
    const seconds = (unreachable.ended! - unreachable.started) / 1000;
    expect(code, unreachable.run.stderr()).toBe(2);
    expect(unreachable.run.stderr()).toMatch(/^Cannot run: no answer from http:\/\/127\.0\.0\.1:9 within 30 s: /);
    // 30 s of retries at most, plus the process's own start on a busy machine.
    expect(seconds).toBeLessThan(45);
  }, 60_000);

  it('prints its help on stdout', async () => {
    const help = await runBulkCli(['link', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: partner-programs link [options] <FILE.csv>');
    expect(help.stdout).toContain('--resume');
  }, 60_000);
});

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function readdirTemp(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
