import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Temporal } from 'temporal-polyfill';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { checkDeclarations, type Declarations } from '../../src/domain/configuration/declarations.js';
import { lifecycleDeclarations, seedDueRelinks } from '../support/lifecycle.js';
import { freePort, runCli, tempDir } from '../support/process.js';
import { Scrape } from '../support/prometheus.js';
import { newSecret, Receiver } from '../support/receiver.js';
import { TEST_SECRETS } from '../support/server.js';
import { ServiceStorage } from '../support/storage.js';

// SPEC §2b for a process that serves no API: a `--role worker` is scraped and probed on
// METRICS_PORT, and counts what its own scheduler and delivery worker do.
const SECRETS_KEY = 'test-secrets-key-0123456789abcdef-0123456789';
const METRICS_TOKEN = 'worker-metrics-token-0123';
const RELINKS = 25;
let folder: string;
let storage: ServiceStorage;
let receiver: Receiver;

beforeAll(async () => {
  folder = tempDir('pp-metrics-');
  receiver = await Receiver.start();
  storage = await ServiceStorage.create(folder);
});

afterAll(async () => {
  await receiver?.close();
  await storage?.drop();
  rmSync(folder, { recursive: true, force: true });
});

const daysFromNow = (days: number) =>
  Temporal.Now.instant()
    .add({ hours: 24 * days })
    .toString();

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, withinMs = 30_000): Promise<T> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a worker process with METRICS_PORT', () => {
  it('answers /metrics, /health and /ready on that port, counting its scheduler and webhook deliveries', async () => {
    const secret = newSecret();
    const declarations: Declarations = lifecycleDeclarations(0);
    declarations.orgs[0]!.webhooks = [{ name: 'all', url: receiver.url('/hooks', secret), events: ['*'], secret }];
    const configFile = join(folder, 'config.yaml');
    writeFileSync(configFile, stringify(declarations));
    await storage.use(async (db) => {
      await applyDeclarations(db, checkDeclarations(declarations), {
        defaultTimezone: 'UTC',
        clock: new ManualClock(Temporal.Now.instant()),
        secrets: TEST_SECRETS,
      });
      // Relinks that fell due while no worker ran: the worker's catch-up activates them.
      await seedDueRelinks(db, RELINKS, 'SUB', daysFromNow(-20), daysFromNow(-1));
    });

    const [port, metricsPort] = [await freePort(), await freePort()];
    const metrics = `http://127.0.0.1:${metricsPort}`;
    const worker = runCli(['serve', '--role', 'worker'], {
      ...storage.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      METRICS_TOKEN,
      SECRETS_KEY,
      CONFIG_FILE: configFile,
    });
    try {
      const scrape = async () => {
        const response = await fetch(`${metrics}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        return response.ok ? new Scrape(await response.text()) : undefined;
      };
      const done = await waitFor('the relinks and their deliveries', async () => {
        const scraped = await scrape();
        const delivered = scraped?.value('webhook_delivery_attempts_total', { outcome: 'succeeded' });
        return delivered === RELINKS && scraped?.value('webhook_deliveries_pending') === 0 ? scraped : undefined;
      });
      // Each relink starts a period of 30 days (its old period had ended): one event each, and
      // none of its reminders (7 and 1 days before the end) is due yet.
      expect(done.series('scheduler_transitions_total')).toEqual({
        'kind=period_started': 0,
        'kind=relink_activated': RELINKS,
        'kind=period_expired': 0,
        'kind=program_expired': 0,
        'kind=backup_started': 0,
        'kind=reminder': 0,
      });
      expect(done.value('events_created_total', { event: 'supplementaryMembershipStarted' })).toBe(RELINKS);
      expect(done.value('webhook_delivery_attempts_total', { outcome: 'failed' })).toBe(0);
      expect(done.value('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(done.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
      expect(receiver.requests('/hooks')).toHaveLength(RELINKS);
      receiver.assertAllVerified();

      expect(await (await fetch(`${metrics}/health`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${metrics}/ready`)).json()).toEqual({ status: 'ok' });
      const open = await fetch(`${metrics}/metrics`);
      expect(open.status).toBe(401);
      expect(open.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      // That port serves nothing else, and a worker serves no API on PORT.
      expect((await fetch(`${metrics}/v2/partnerProgram/linkCustomer`, { method: 'POST' })).status).toBe(404);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
      // Its own requests are timed too, by route.
      const after = (await scrape())!;
      expect(
        after.count('http_request_duration_seconds_count', { method: 'GET', route: '/health', status_code: '200' }),
      ).toBe(1);
      expect(
        after.count('http_request_duration_seconds_count', { method: 'POST', route: 'unmatched', status_code: '404' }),
      ).toBe(1);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.output()).toBe(0);
    }
    await expect(fetch(`${metrics}/health`)).rejects.toThrow();
  }, 90_000);
});

describe('the settings', () => {
  async function refused(env: Record<string, string>): Promise<string> {
    const run = runCli(['serve'], { ...storage.env, SECRETS_KEY, HOST: '127.0.0.1', ...env });
    expect(await run.exited).toBe(1);
    return run.stderr();
  }

  it('refuses a METRICS_TOKEN shorter than 16 characters, naming it', async () => {
    expect(await refused({ METRICS_TOKEN: 'too-short' })).toContain(
      'METRICS_TOKEN must be at least 16 characters (unset it to leave /metrics open)',
    );
  });

  it('refuses a METRICS_PORT equal to PORT where the API is served', async () => {
    const port = String(await freePort());
    for (const role of ['all', 'api']) {
      expect(await refused({ PORT: port, METRICS_PORT: port, ROLE: role })).toContain(
        `METRICS_PORT must differ from PORT (both are ${port})`,
      );
    }
    expect(await refused({ METRICS_PORT: '70000' })).toContain(
      'METRICS_PORT must be an integer from 1 to 65535 (got "70000")',
    );
  });

  it('says so when METRICS_PORT is in use', async () => {
    const taken: Server = createServer();
    const metricsPort = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const stderr = await refused({ PORT: String(await freePort()), METRICS_PORT: String(metricsPort) });
      expect(stderr).toContain(
        `127.0.0.1:${metricsPort} is in use by another process; stop it or set another METRICS_PORT`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
