import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli, startService, tempDir } from '../support/process.js';

// Security settings of the process: unsafe ones stop it before it touches storage; the stored
// token signing key outlives a restart.
const dataDir = tempDir('pp-security-');
let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function storage(): Promise<Record<string, string>> {
  if (backend === 'pglite') return { DATA_DIR: dataDir };
  database ??= await createTestDatabase();
  await database.close();
  return { DATABASE_URL: database.url! };
}

describe('the process', () => {
  it('refuses an ADMIN_TOKEN shorter than 32 characters, naming it', async () => {
    const run = runCli(['serve'], { DATA_DIR: dataDir, ADMIN_TOKEN: 'too-short-token' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('ADMIN_TOKEN must be at least 32 characters');
  });

  it('refuses an OAUTH_SIGNING_KEY that is not a PKCS#8 RSA key, naming it', async () => {
    const run = runCli(['serve'], { DATA_DIR: dataDir, OAUTH_SIGNING_KEY: 'not a key' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('OAUTH_SIGNING_KEY must be a PKCS#8 PEM');
  });

  it("accepts the demo OAuth client's token after a restart", async () => {
    const env = { ...(await storage()), CONFIG_FILE: 'config/demo.yaml' };
    const lookup = (url: string, token: string) =>
      fetch(`${url}/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=919400000001`, {
        headers: { 'x-cap-api-oauth-token': token },
      });
    let service = await startService(env);
    let token: string;
    try {
      const response = await fetch(`${service.url}/v3/oauth/token/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'demo-client', secret: 'demo-client-secret' }),
      });
      expect(response.status).toBe(200);
      token = ((await response.json()) as { data: { accessToken: string } }).data.accessToken;
      expect((await lookup(service.url, token)).status).toBe(200);
    } finally {
      expect(await service.stop()).toBe(0);
    }
    service = await startService(env);
    try {
      expect((await lookup(service.url, token)).status).toBe(200);
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });
});
