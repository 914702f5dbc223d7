import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/process.js';
import { differences, readmeBlocks } from '../support/readme.js';

// The README test's own reading: what it runs and what it holds the answers against.
describe('reading the README as a script', () => {
  it('takes sh blocks in order, skips marked ones, and pairs promised answers with their curl', () => {
    const path = join(tempDir('pp-readme-unit-'), 'README.md');
    const fence = '```';
    writeFileSync(
      path,
      [
        '<!-- readme: not run (example) -->',
        `${fence}sh`,
        'npm ci',
        fence,
        `${fence}sh`,
        'A=1',
        'curl -s localhost:8080/a',
        '# {"a":1}',
        "curl -s localhost:8080/b --data '{",
        '  "x": 1 }\'',
        fence,
        '',
        `${fence}json`,
        '{"b": [1, 2]}',
        fence,
        `${fence}yaml`,
        'not: run',
        fence,
      ].join('\n'),
    );
    const blocks = readmeBlocks(path);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.script).toContain('A=1');
    expect(blocks[0]!.expected.get(0)?.json).toEqual({ a: 1 });
    expect(blocks[0]!.expected.get(1)?.json).toEqual({ b: [1, 2] });
  });

  it('compares instants by form, ids by type, `…` by its ends, and everything else exactly', () => {
    expect(differences({ at: '2026-11-30T10:00:00+05:30' }, { at: '2027-01-01T00:00:00.123+05:30' })).toEqual([]);
    expect(differences({ at: '2026-11-30T10:00:00+05:30' }, { at: '2026-11-30T04:30:00Z' })).toHaveLength(1);
    expect(differences({ id: 1, entity: 2 }, { id: 7, entity: 9 })).toEqual([]);
    expect(differences({ id: 1 }, { id: '7' })).toHaveLength(1);
    expect(differences({ token: 'eyJ…' }, { token: 'eyJabc' })).toEqual([]);
    expect(differences({ token: 'eyJ…' }, { token: 'abc' })).toHaveLength(1);
    expect(differences({ code: 200 }, { code: 2005 })).toHaveLength(1);
    expect(differences({ a: [1] }, { a: [1, 2] })).toHaveLength(1);
    expect(differences({ a: 1 }, { a: 1, b: 2 })).toEqual(['$: keys differ: b']);
    expect(differences({ state: 'ACTIVE' }, { state: 'EXPIRED' })).toHaveLength(1);
  });
});
