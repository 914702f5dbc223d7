import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { ORG_ID } from './bench-database.js';
import { writeConfigFile } from './service.js';

/**
 * The benches' configuration, with relinking allowed in the bench org: the seeded pending relinks
 * were scheduled by link requests, which link policy refuses without ALLOW_MEMBERSHIP_RELINKING
 * (the scheduler itself does not look at it).
 */
export function writeDrainConfigFile(): ReturnType<typeof writeConfigFile> {
  const file = writeConfigFile();
  const declarations = parse(readFileSync(file.path, 'utf8')) as Declarations;
  const org = declarations.orgs.find((o) => o.id === ORG_ID);
  if (!org) throw new Error(`the bench configuration has no org ${ORG_ID}`);
  org.configs = { ...org.configs, ALLOW_MEMBERSHIP_RELINKING: true };
  writeFileSync(file.path, stringify(declarations));
  return file;
}
