import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface LintReport {
  problems: unknown[];
  totals: Record<string, number>;
}

/**
 * Redocly's lint of an OpenAPI document, with the repository's redocly.yaml (the recommended
 * rules, info-license off: no license is declared), as its JSON report.
 */
export async function redoclyLint(doc: unknown): Promise<LintReport> {
  const folder = await mkdtemp(join(tmpdir(), 'openapi-'));
  try {
    const file = join(folder, 'openapi.json');
    await writeFile(file, JSON.stringify(doc));
    const { stdout } = await promisify(execFile)('node_modules/.bin/redocly', ['lint', file, '--format=json'], {
      cwd: process.cwd(),
    }).catch((failure: { stdout: string }) => failure);
    return JSON.parse(stdout) as LintReport;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
