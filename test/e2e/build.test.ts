import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/database.js';
import { startService, tempDir } from '../support/process.js';
import { basicHeader } from '../support/server.js';

// The package as a user gets it: `npx partner-programs` right after `npm ci`, and `npm run build`
// giving a dist/ that runs with plain Node.js. Each runs in a folder laid out like a clone (the
// package.json, node_modules and sources of this repository linked in), so a dist/ built here
// for development never decides which way the command goes.
const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
let folders: string[] = [];

/** A folder with this repository's package.json and node_modules, a copy of bin/, and `links`. */
function clone(links: string[] = []): string {
  const folder = tempDir('pp-build-');
  folders.push(folder);
  for (const name of ['package.json', 'node_modules', ...links]) symlinkSync(join(repo, name), join(folder, name));
  // A copy, not a link: Node.js resolves a linked entry point to this repository, and its dist/.
  cpSync(join(repo, 'bin'), join(folder, 'bin'), { recursive: true });
  return folder;
}

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  folders = [];
});

async function npxHelp(cwd: string): Promise<string> {
  // --offline: when the folder's own bin is not found, fail rather than ask the registry for it.
  const { stdout } = await run('npx', ['--offline', 'partner-programs', '--help'], { cwd });
  return stdout;
}

// Neither the command nor the build depends on the storage backend: the pglite project runs them.
const onePass = backend !== 'pglite';

describe.skipIf(onePass)('npx partner-programs with no build (run by the pglite project)', () => {
  it('runs the sources through tsx', async () => {
    const folder = clone(['src']);
    expect(existsSync(join(folder, 'dist'))).toBe(false);
    const help = await npxHelp(folder);
    expect(help).toContain('Usage: partner-programs [options] [command]');
    expect(help).toMatch(/^ {2}serve \[options\] /m);
  });
});

describe.skipIf(onePass)('npm run build (run by the pglite project)', () => {
  let folder: string;

  beforeAll(async () => {
    folder = clone();
    // Without type-checking (CI does that): the same output, in a third of the time.
    const build = [join(repo, 'scripts/build.ts'), join(folder, 'dist'), '--no-check'];
    await run(process.execPath, ['--import', 'tsx', ...build], { cwd: repo });
  }, 120_000);

  it('copies the SQL migrations beside the compiled migrator', () => {
    expect(readdirSync(join(folder, 'dist/db/migrations'))).toEqual(
      readdirSync(join(repo, 'src/db/migrations')).filter((file) => file.endsWith('.sql')),
    );
  });

  it('gives dist/cli.js, which npx partner-programs runs (the folder has no sources)', async () => {
    expect(await npxHelp(folder)).toContain('Usage: partner-programs [options] [command]');
  });

  it('serves from dist/ with plain Node.js, on the embedded database it migrates', async () => {
    const dataDir = join(folder, 'data');
    const service = await startService(
      { DATA_DIR: dataDir, CONFIG_FILE: 'config/demo.yaml' },
      { cli: join(folder, 'dist/cli.js') },
    );
    try {
      expect((await fetch(`${service.url}/ready`)).status).toBe(200);
      const response = await fetch(`${service.url}/v2/partnerProgram/linkCustomer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicHeader('demo.till', 'demo-password') },
        body: JSON.stringify({
          linkCustomers: [
            {
              customer: { mobile: '919400000001' },
              linkToPartnerPrograms: [
                { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C' } },
              ],
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        linkCustomers: Array<{ linkToPartnerPrograms: Array<{ partnerLinkStatus: unknown }> }>;
      };
      expect(body.linkCustomers[0]!.linkToPartnerPrograms[0]!.partnerLinkStatus).toEqual({
        status: true,
        code: 200,
        message: 'Success',
      });
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });
});
