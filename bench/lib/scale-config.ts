import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { TILL, writeConfigFile } from './service.js';

/**
 * The benches' configuration, with the bench till also in the PARTNER_PROGRAM access group: the
 * activity history (`GET /v2/partnerProgram/customerActivityHistories`) requires it, and the
 * other benches call only DEFAULT endpoints.
 */
export function writeScaleConfigFile(): ReturnType<typeof writeConfigFile> {
  const file = writeConfigFile();
  const declarations = parse(readFileSync(file.path, 'utf8')) as Declarations;
  const till = declarations.orgs.flatMap((org) => org.tills ?? []).find((t) => t.username === TILL.username);
  if (!till) throw new Error(`the bench configuration has no till ${TILL.username}`);
  till.accessGroups = ['DEFAULT', 'PARTNER_PROGRAM'];
  writeFileSync(file.path, stringify(declarations));
  return file;
}
