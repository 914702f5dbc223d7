import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BenchDatabase } from './bench-database.js';

/**
 * A fresh bench database holding what `template` holds, for each scenario: a copy of the seeded
 * data set takes seconds where seeding it again takes minutes. `strategy file_copy` copies the
 * files after a checkpoint instead of writing every page to the WAL (PostgreSQL 15's default),
 * the faster way for gigabytes. Nobody may be connected to `template` meanwhile.
 */
export async function copyBenchDatabase(serverUrl: string, template: BenchDatabase): Promise<BenchDatabase> {
  const name = `pp_bench_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, `create database ${name} template ${template.name} strategy file_copy`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // `with (force)` ends connections a killed service may have left behind.
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
