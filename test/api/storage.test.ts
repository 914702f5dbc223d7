import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

// The storage layer itself, on both backends.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await sql`insert into orgs (id, name, timezone) values (1, 'One', 'UTC')`.execute(database.db);
});
afterAll(() => database.drop());

describe('transactions', () => {
  it('keeps a rolled-back transaction from leaking into an overlapping one', async () => {
    const { db } = database;
    const failing = db.transaction().execute(async (trx) => {
      await sql`insert into orgs (id, name, timezone) values (2, 'Rolled back', 'UTC')`.execute(trx);
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('abort');
    });
    const committing = db.transaction().execute(async (trx) => {
      await sql`insert into orgs (id, name, timezone) values (3, 'Committed', 'UTC')`.execute(trx);
    });
    await expect(failing).rejects.toThrow('abort');
    await committing;
    const ids = await db.selectFrom('orgs').select('id').orderBy('id').execute();
    expect(ids.map((r) => r.id)).toEqual([1, 3]);
  });
});

describe('the schema enforces the invariants', () => {
  it('refuses a second membership for one customer and program, and cross-org references', async () => {
    const { db } = database;
    await sql`insert into orgs (id, name, timezone) values (9, 'Nine', 'UTC')`.execute(db);
    await sql`insert into loyalty_programs (id, org_id, name) values (1, 1, 'LP')`.execute(db);
    const program = await sql<{ id: number }>`insert into partner_programs (org_id, loyalty_program_id, name, type)
      values (1, 1, 'Ext', 'EXTERNAL') returning id`.execute(db);
    const customer = await sql<{
      id: number;
    }>`insert into customers (org_id, mobile, created_at) values (1, '1', now()) returning id`.execute(db);
    const programId = program.rows[0]!.id;
    const customerId = customer.rows[0]!.id;
    const insert = (orgId: number) =>
      sql`insert into memberships (org_id, customer_id, partner_program_id, program_type, state, created_at, updated_at)
        values (${orgId}, ${customerId}, ${programId}, 'EXTERNAL', 'LINKED', now(), now())`.execute(db);
    await expect(insert(9)).rejects.toMatchObject({ code: '23503' });
    await insert(1);
    await expect(insert(1)).rejects.toMatchObject({ code: '23505' });
    await expect(
      sql`insert into customers (org_id, mobile, created_at) values (1, '1', now())`.execute(db),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      sql`insert into partner_programs (org_id, loyalty_program_id, name, type) values (1, 1, 'EXT', 'EXTERNAL')`.execute(
        db,
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      sql`insert into partner_programs (org_id, loyalty_program_id, name, type) values (1, 1, 'Sup', 'SUPPLEMENTARY')`.execute(
        db,
      ),
    ).rejects.toMatchObject({ code: '23514' });
  });
});
