import { sql } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../database.js';
import { toDate } from '../instants.js';

/** The shared clock offset in milliseconds, or null when the service runs on real time. */
export async function readClockOffset(db: DB): Promise<number | null> {
  const row = await db.selectFrom('sandbox_clock').select('offset_ms').executeTakeFirst();
  return row ? Number(row.offset_ms) : null;
}

export async function writeClockOffset(db: DB, offsetMs: number | null, at: Temporal.Instant): Promise<void> {
  if (offsetMs === null) {
    await db.deleteFrom('sandbox_clock').execute();
    return;
  }
  await sql`insert into sandbox_clock (id, offset_ms, updated_at) values (true, ${offsetMs}, ${toDate(at)})
    on conflict (id) do update set offset_ms = excluded.offset_ms, updated_at = excluded.updated_at`.execute(db);
}
