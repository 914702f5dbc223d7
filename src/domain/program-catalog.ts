import type { DB } from '../db/database.js';
import { findProgramsByNames } from '../db/repositories/partner-programs.repository.js';
import type { PartnerProgram } from '../model/program.js';
import type { OrgContext } from './caller.js';

/** Names remembered per org before its cache starts over: unknown names are remembered too. */
const NAMES_PER_ORG = 10_000;

interface OrgPrograms {
  version: number;
  /** Lower-cased name → the program, or null: the org has none of that name. */
  byName: Map<string, PartnerProgram | null>;
}

/**
 * The partner programs that requests name, cached in this process per org at the configuration
 * version (configuration_version) read with the caller's credential. Every configuration change,
 * from any instance, bumps that version in its own transaction, so a request that reads a newer
 * version than the cache's starts the org's cache over. A request that read an older version
 * (its credential was read just before a change committed) may be answered from a newer cache,
 * never the other way round: a read is kept only when the cache is still at the version it was
 * made for.
 */
export class ProgramCatalog {
  private readonly orgs = new Map<number, OrgPrograms>();

  constructor(private readonly db: DB) {}

  /** The org's programs of these lower-cased names (those it has). */
  async named(org: OrgContext, lowerNames: readonly string[]): Promise<PartnerProgram[]> {
    const version = org.configurationVersion;
    if (version === undefined) return findProgramsByNames(this.db, org.id, [...lowerNames]);
    const cache = this.current(org.id, version);
    const missing = lowerNames.filter((name) => !cache.byName.has(name));
    const read = missing.length === 0 ? [] : await findProgramsByNames(this.db, org.id, missing);
    const readByName = new Map(read.map((p) => [p.name.toLowerCase(), p]));
    if (this.orgs.get(org.id) === cache && cache.version === version) {
      if (cache.byName.size + missing.length > NAMES_PER_ORG) cache.byName.clear();
      for (const name of missing) cache.byName.set(name, readByName.get(name) ?? null);
    }
    const programs: PartnerProgram[] = [];
    for (const name of lowerNames) {
      const program = readByName.get(name) ?? cache.byName.get(name);
      if (program) programs.push(program);
    }
    return programs;
  }

  private current(orgId: number, version: number): OrgPrograms {
    let cache = this.orgs.get(orgId);
    if (!cache || cache.version < version) {
      cache = { version, byName: new Map() };
      this.orgs.set(orgId, cache);
    }
    return cache;
  }
}
