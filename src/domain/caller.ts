/** Who is calling: every use case takes one and reads and writes only inside its org. */
export interface OrgContext {
  id: number;
  timezone: string;
  configs: Readonly<Record<string, unknown>>;
  /**
   * The configuration version read with the caller's credential: program facts this process
   * cached at this version or later are current (ProgramCatalog). Undefined: read them afresh.
   */
  configurationVersion?: number;
}

export type AccessGroup = 'DEFAULT' | 'PARTNER_PROGRAM';

export interface Caller {
  org: OrgContext;
  accessGroups: readonly string[];
  /** The till (Basic) or OAuth client the request came with; `name` is its username or key. */
  credential: { kind: 'till' | 'oauth'; id: number; name: string };
  /** The request's X-Request-Id: the `apiRequestId` of the events it causes (SPEC §9.2). */
  requestId?: string;
  /** Where the change comes from, for its events: the API unless said otherwise. */
  source?: 'API' | 'CONSOLE';
}

export function orgFlag(org: OrgContext, name: string): boolean {
  const value = org.configs[name];
  return value === true || value === 'true' || value === 1;
}
