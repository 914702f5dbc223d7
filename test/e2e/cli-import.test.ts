import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULK_ORG, bulkMobile, readCsv, runBulkCli, writeBulkConfig } from '../support/bulk.js';
import { startService, tempDir, type ServiceProcess } from '../support/process.js';
import { TEST_ADMIN_TOKEN } from '../support/server.js';
import { ServiceStorage } from '../support/storage.js';

// SPEC §2a `import-customers`: the service and the command each a real process.
let folder: string;
let storage: ServiceStorage | undefined;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  folder = tempDir('pp-cli-import-');
  writeBulkConfig(folder, 2);
  storage = await ServiceStorage.create(folder);
  service = await startService({
    ...storage.env,
    CONFIG_FILE: join(folder, 'config.yaml'),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  });
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await storage?.drop();
  rmSync(folder, { recursive: true, force: true });
});

const importCustomers = (args: string[], env: Record<string, string> = { ADMIN_TOKEN: TEST_ADMIN_TOKEN }) =>
  runBulkCli(['import-customers', ...args, '--url', service!.url], env);

async function customer(id: string) {
  const response = await fetch(`${service!.url}/admin/v1/orgs/${BULK_ORG}/customers/${id}`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  return (await response.json()) as { mobile: string; email: string | null; loyaltyProgramIds: number[] };
}

describe('import-customers FILE.csv --org ID', () => {
  it('upserts every row it can and gives the others the admin API message', async () => {
    const file = join(folder, 'customers.csv');
    const rows = Array.from({ length: 2_400 }, (_, i) => `${bulkMobile(5001 + i)},c${i}@example.com,,40`);
    // Row 3: an unknown loyalty program; row 5: an identifier of another customer; the last: malformed.
    rows[2] = `${bulkMobile(5003)},,,40;77`;
    rows[4] = `${bulkMobile(1)},c0@example.com,,`;
    writeFileSync(file, `Mobile,email,externalId,loyaltyPrograms\n${rows.join('\n')}\n${bulkMobile(9999)},x\n`);
    const run = await importCustomers([file, '--org', String(BULK_ORG)]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^2,401 rows: 2,398 succeeded, 3 failed \(400 × 3\) in [\d.]+ s$/),
    ]);
    const result = readCsv(join(folder, 'customers.result.csv'));
    expect(result[0]).toEqual(['Mobile', 'email', 'externalId', 'loyaltyPrograms', 'customerId', 'error']);
    expect(result).toHaveLength(2_402);
    expect(result[3]!.slice(4)).toEqual(['', 'loyaltyPrograms[1]: no loyalty program 77 in this org']);
    expect(result[5]!.slice(4)).toEqual(['', 'mobile and email belong to different customers']);
    expect(result[2_401]!.slice(4)).toEqual(['', 'Malformed row: 2 cells, the header has 4']);
    const imported = result.slice(1, 2_401).filter((row) => row[5] === '');
    expect(imported).toHaveLength(2_398);
    expect(new Set(imported.map((row) => row[4])).size).toBe(2_398);
    const first = await customer(result[1]![4]!);
    expect(first).toMatchObject({ mobile: bulkMobile(5001), email: 'c0@example.com', loyaltyProgramIds: [40] });
  }, 60_000);

  it('cannot run without the admin token, or for an unknown org: exit 2, saying why', async () => {
    const file = join(folder, 'one.csv');
    writeFileSync(file, `mobile\n${bulkMobile(1)}\n`);
    const [noToken, wrongToken, unknownOrg, noOrg] = await Promise.all([
      importCustomers([file, '--org', String(BULK_ORG)], {}),
      importCustomers([file, '--org', String(BULK_ORG)], { ADMIN_TOKEN: 'not-the-admin-token-0123456789abcdef' }),
      importCustomers([file, '--org', '999']),
      importCustomers([file]),
    ]);
    expect([noToken.code, wrongToken.code, unknownOrg.code, noOrg.code]).toEqual([2, 2, 2, 2]);
    expect(noToken.stderr).toMatch(/^Cannot run: no admin token: set ADMIN_TOKEN/);
    expect(wrongToken.stderr).toMatch(/^Cannot run: .* refused the credentials of ADMIN_TOKEN/);
    expect(unknownOrg.stderr).toMatch(/^Cannot run: .* has no org 999/);
    expect(noOrg.stderr).toMatch(/required option '--org <ID>' not specified/);
  }, 60_000);
});
