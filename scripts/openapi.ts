import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { systemClock } from '../src/domain/clock.js';
import { SecretBox } from '../src/domain/secrets.js';

/**
 * `tsx scripts/openapi.ts FILE`: writes the OpenAPI document the service serves at /openapi.json
 * to FILE, for `npm run lint:openapi`. The app is built in-process on an empty in-memory
 * database, with an admin token so that the /admin/v1 paths are in the document too.
 */
const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/openapi.ts FILE');
  process.exit(2);
}
const database = await openDatabase({ kind: 'pglite-memory' });
try {
  await migrateToLatest(database.db);
  const app = await buildApp({
    config: {
      bodyLimitBytes: 1024 * 1024,
      adminToken: 'openapi-document-admin-token-0123456789',
      lockTimeoutMs: 5000,
      timezone: 'UTC',
      oauthSigningKey: undefined,
    },
    db: database.db,
    clock: systemClock,
    secrets: SecretBox.fromSecret(randomBytes(32).toString('hex')),
    logger: pino({ level: 'silent' }),
  });
  await app.ready();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(app.swagger(), null, 2)}\n`);
  await app.close();
} finally {
  await database.close();
}
