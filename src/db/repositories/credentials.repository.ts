import type { DB } from '../database.js';

export interface TillCredential {
  tillId: number;
  username: string;
  secretHash: string;
  accessGroups: string[];
  orgId: number;
  orgTimezone: string;
  orgConfigs: Record<string, unknown>;
}

export async function findTillCredential(db: DB, username: string): Promise<TillCredential | undefined> {
  const row = await db
    .selectFrom('tills')
    .innerJoin('orgs', 'orgs.id', 'tills.org_id')
    .select([
      'tills.id as tillId',
      'tills.username',
      'tills.password_hash as secretHash',
      'tills.access_groups as accessGroups',
      'orgs.id as orgId',
      'orgs.timezone as orgTimezone',
      'orgs.configs as orgConfigs',
    ])
    .where('tills.username', '=', username)
    .executeTakeFirst();
  return row;
}
