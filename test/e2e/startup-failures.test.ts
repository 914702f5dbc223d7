import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl, backend, withDatabase } from '../support/database.js';
import { freePort, runCli, tempDir } from '../support/process.js';

// A process that cannot start says so in one line on stderr, what failed and what to do, and
// exits 1; the stack follows only at LOG_LEVEL=debug.
async function failure(args: string[], env: Record<string, string>) {
  const run = runCli(args, env);
  const code = await run.exited;
  return { code, stderr: run.stderr(), output: run.output() };
}

/** Exit code 1 and, on stderr, exactly `line`: no stack. */
async function expectOneLine(args: string[], env: Record<string, string>, line: string | RegExp) {
  const { code, stderr, output } = await failure(args, env);
  expect(stderr.split('\n').filter(Boolean)).toEqual([typeof line === 'string' ? line : expect.stringMatching(line)]);
  expect(output).not.toMatch(/^\s+at /m);
  expect(code).toBe(1);
  return output;
}

const server = new URL(adminDatabaseUrl);
const at = `${server.hostname}:${server.port || 5432}`;
const user = decodeURIComponent(server.username) || 'postgres';

describe.skipIf(backend !== 'postgres')('PostgreSQL that cannot be used (run by the postgres project)', () => {
  const missing = `pp_missing_${randomBytes(4).toString('hex')}`;

  it('names a database that does not exist, and how to create it', async () => {
    await expectOneLine(
      ['serve'],
      { DATABASE_URL: withDatabase(adminDatabaseUrl, missing) },
      `Cannot start: database "${missing}" does not exist on ${at}; create it first ` +
        `(createdb -h ${server.hostname} -p ${server.port || 5432} -U ${user} ${missing}) ` +
        'or point DATABASE_URL at an existing database',
    );
  });

  it('prints the stack after that line at LOG_LEVEL=debug', async () => {
    const { code, stderr } = await failure(['serve'], {
      DATABASE_URL: withDatabase(adminDatabaseUrl, missing),
      LOG_LEVEL: 'debug',
    });
    expect(code).toBe(1);
    const [first, ...rest] = stderr.split('\n');
    expect(first).toMatch(new RegExp(`^Cannot start: database "${missing}" does not exist`));
    expect(rest.join('\n')).toMatch(/^\s+at .*database\.ts/m);
    expect(rest.join('\n')).toContain("code: '3D000'");
  });

  it('says the same for migrate and for jobs run --once', async () => {
    const env = { DATABASE_URL: withDatabase(adminDatabaseUrl, missing) };
    await expectOneLine(['migrate'], env, new RegExp(`^Cannot migrate: database "${missing}" does not exist on `));
    await expectOneLine(
      ['jobs', 'run', '--once'],
      env,
      new RegExp(`^Cannot run the scheduler: database "${missing}" does not exist on `),
    );
  });

  it('names a role that does not exist', async () => {
    const url = new URL(adminDatabaseUrl);
    url.username = 'nobody_xyz';
    await expectOneLine(
      ['serve'],
      { DATABASE_URL: url.toString() },
      `Cannot start: PostgreSQL at ${at} refused role "nobody_xyz" (role "nobody_xyz" does not exist); ` +
        'check the user in DATABASE_URL, create the role, or allow it in pg_hba.conf',
    );
  });

  it('names the migration that failed', async () => {
    // A database where the first migration cannot create its first table.
    const name = `pp_conflict_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = withDatabase(adminDatabaseUrl, name);
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('create table orgs (id int)');
      await client.end();
      await expectOneLine(
        ['migrate'],
        { DATABASE_URL: url },
        'Cannot migrate: Migration 0001_initial failed: relation "orgs" already exists; no pending migration was applied',
      );
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

describe.skipIf(backend !== 'postgres')('a PostgreSQL server out of reach (run by the postgres project)', () => {
  let fake: Server | undefined;
  afterAll(() => fake?.close());

  it('says that nothing answers, and never prints the password', async () => {
    const output = await expectOneLine(
      ['serve'],
      { DATABASE_URL: 'postgres://postgres:pw-s3cret-9@127.0.0.1:1/postgres' },
      'Cannot start: PostgreSQL refused the connection at 127.0.0.1:1; is it running, and is DATABASE_URL right?',
    );
    expect(output).not.toContain('pw-s3cret-9');
  });

  it('says that the host cannot be resolved', async () => {
    await expectOneLine(
      ['serve'],
      { DATABASE_URL: 'postgres://postgres@no-such-host.invalid:5432/postgres' },
      /^Cannot start: the host "no-such-host\.invalid" of DATABASE_URL cannot be resolved \((ENOTFOUND|EAI_AGAIN)\); /,
    );
  });

  it('says that the password was rejected, without printing it, even at LOG_LEVEL=debug', async () => {
    // A server that answers every startup message as PostgreSQL does a wrong password (28P01).
    fake = createServer((socket) =>
      socket.once('data', () =>
        socket.end(
          errorResponse({
            S: 'FATAL',
            V: 'FATAL',
            C: '28P01',
            M: 'password authentication failed for user "someone"',
          }),
        ),
      ),
    );
    const port = await freePort();
    await new Promise<void>((resolve) => fake!.listen(port, '127.0.0.1', resolve));
    const env = { DATABASE_URL: `postgres://someone:pw-s3cret-9@127.0.0.1:${port}/db` };
    const output = await expectOneLine(
      ['serve'],
      env,
      `Cannot start: PostgreSQL at 127.0.0.1:${port} rejected the password of role "someone"; ` +
        'check the password in DATABASE_URL',
    );
    expect(output).not.toContain('pw-s3cret-9');
    const debug = await failure(['serve'], { ...env, LOG_LEVEL: 'debug' });
    expect(debug.output).toContain("code: '28P01'");
    expect(debug.output).not.toContain('pw-s3cret-9');
  });
});

/** A PostgreSQL ErrorResponse message: 'E', its length, then code-value fields. */
function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(fields).map(([code, value]) => Buffer.from(`${code}${value}\0`)),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

describe.skipIf(backend !== 'pglite')('other start-up failures (run by the pglite project)', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir('pp-startup-');
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('says that the port is taken', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      await expectOneLine(
        ['serve'],
        { DATA_DIR: join(folder, 'port'), HOST: '127.0.0.1', PORT: String(port) },
        `Cannot start: 127.0.0.1:${port} is in use by another process; stop it or set another PORT`,
      );
    } finally {
      taken.close();
    }
  });

  it('lists what is wrong with CONFIG_FILE, as it does for settings, without a stack', async () => {
    const configFile = join(folder, 'bad.yaml');
    writeFileSync(configFile, 'orgs: [ { id: -1 } ]\n');
    const { code, stderr } = await failure(['serve'], { DATA_DIR: join(folder, 'config'), CONFIG_FILE: configFile });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Invalid declarations:\n {2}- /);
    expect(stderr).toContain(`${configFile}: orgs[0]`);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
