/** Who is calling: every use case takes one and reads and writes only inside its org. */
export interface OrgContext {
  id: number;
  timezone: string;
  configs: Readonly<Record<string, unknown>>;
}

export type AccessGroup = 'DEFAULT' | 'PARTNER_PROGRAM';

export interface Caller {
  org: OrgContext;
  accessGroups: readonly string[];
  credential: { kind: 'till'; id: number; name: string };
}

export function orgFlag(org: OrgContext, name: string): boolean {
  const value = org.configs[name];
  return value === true || value === 'true' || value === 1;
}
