import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { backend } from '../support/database.js';
import {
  processIdentity,
  readDataDirLock,
  runCli,
  startService,
  tempDir,
  writeDataDirLock,
  type ServiceProcess,
} from '../support/process.js';
import { basicHeader } from '../support/server.js';

// The embedded database's lock as processes meet it: a pid that was reused, a holder that lives,
// and a container's service, always pid 1, killed with -9 and started again.
const onLinux = process.platform === 'linux';

/** `unshare -pf --mount-proc` runs a command as pid 1 of a new pid namespace (root on Linux). */
const pidNamespace = ['unshare', '-pf', '--mount-proc', '--kill-child'];
const canUnshare =
  onLinux && spawnSync(pidNamespace[0]!, [...pidNamespace.slice(1), 'sh', '-c', 'test $$ -eq 1']).status === 0;

async function expectRefusal(dataDir: string, pid: number) {
  const run = runCli(['serve'], { DATA_DIR: dataDir, PORT: '0' });
  expect(await run.exited).toBe(1);
  expect(run.stderr()).toBe(
    `Cannot start: DATA_DIR ${dataDir} is in use by process ${pid}; the embedded database serves one process. ` +
      'Stop that process, choose another DATA_DIR, or run on PostgreSQL (DATABASE_URL)\n',
  );
}

describe.skipIf(backend !== 'pglite' || !onLinux)('the DATA_DIR lock (embedded database, Linux)', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir('pp-lock-e2e-');
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('is taken over when its pid now belongs to another live process; the new holder refuses a second service', async () => {
    const dataDir = join(folder, 'reused-pid');
    writeDataDirLock(dataDir, { ...processIdentity(process.pid), startTime: '1' });
    const service = await startService({ DATA_DIR: dataDir });
    try {
      expect(readDataDirLock(dataDir)).toEqual(processIdentity(service.child.pid!));
      await expectRefusal(dataDir, service.child.pid!);
    } finally {
      expect(await service.stop()).toBe(0);
    }
    expect(readDataDirLock(dataDir)).toBeUndefined();
  });

  it('refuses, in one line, while the process it names lives (same pid, start time and boot id)', async () => {
    const dataDir = join(folder, 'live-holder');
    writeDataDirLock(dataDir, processIdentity(process.pid));
    await expectRefusal(dataDir, process.pid);
  });

  it.skipIf(!canUnshare)(
    'starts again after kill -9 as pid 1 of a new pid namespace, as a container does (needs unshare -pf --mount-proc)',
    async () => {
      const env = { DATA_DIR: join(folder, 'pid-1'), CONFIG_FILE: 'config/demo.yaml' };
      const first = await startService(env, { wrapper: pidNamespace });
      try {
        expect(readDataDirLock(env.DATA_DIR)).toMatchObject({ pid: 1 });
        expect((await linkCoalition(first)).status).toBe(200);
      } finally {
        process.kill(pidInside(first), 'SIGKILL');
        await first.exited;
      }
      expect(readDataDirLock(env.DATA_DIR)).toMatchObject({ pid: 1 });

      const second = await startService(env, { wrapper: pidNamespace });
      try {
        expect(readDataDirLock(env.DATA_DIR)).toMatchObject({ pid: 1 });
      } finally {
        process.kill(pidInside(second), 'SIGTERM');
        expect(await second.exited).toBe(0);
      }
      expect(readDataDirLock(env.DATA_DIR)).toBeUndefined();
      // What the killed process had committed is there.
      const stored = await openDatabase({ kind: 'pglite', dataDir: env.DATA_DIR });
      try {
        const rows = await stored.db.selectFrom('memberships').select('partner_membership_id').execute();
        expect(rows.map((row) => row.partner_membership_id)).toContain('C-1');
      } finally {
        await stored.close();
      }
    },
    // Two starts of the demo service, each of which may take many seconds on a loaded machine.
    90_000,
  );
});

const demoTill = basicHeader('demo.till', 'demo-password');

function linkCoalition(service: ServiceProcess) {
  return fetch(`${service.url}/v2/partnerProgram/linkCustomer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: demoTill },
    body: JSON.stringify({
      linkCustomers: [
        {
          customer: { mobile: '919400000001' },
          linkToPartnerPrograms: [
            { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C-1' } },
          ],
        },
      ],
    }),
  });
}

/** The service's own pid (outside its namespace): the child `unshare` forked. */
function pidInside(service: ServiceProcess): number {
  const unshare = service.child.pid!;
  return Number(readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8').trim().split(' ')[0]);
}
