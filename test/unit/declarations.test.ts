import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDeclarations,
  checkPartnerProgram,
  DeclarationError,
  readDeclarationsFile,
  type PartnerProgramDeclaration,
} from '../../src/domain/configuration/declarations.js';

/** A valid file in the demo's shape; each test breaks one thing of a fresh copy. */
function goodFile() {
  return {
    orgs: [
      {
        id: 100,
        name: 'Demo Retail',
        timezone: 'Asia/Kolkata',
        configs: { ALLOW_MEMBERSHIP_RELINKING: true },
        loyaltyPrograms: [
          {
            id: 1,
            name: 'Main',
            oneSupplementaryProgramAtATime: true,
            partnerPrograms: [
              { name: 'Goldstar', type: 'EXTERNAL', tiers: ['Silver', 'Gold', 'Platinum'] },
              {
                name: 'SPP_1',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'MONTHS', value: 12 },
                expiryDate: '2030-12-31T23:59:59+05:30',
                backupProgram: 'spp_2',
                expiryReminderDays: [30, 7],
              },
              { name: 'SPP_2', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 365 } },
            ],
          },
        ],
        tills: [{ username: 'demo.till', password: 'demo-password', accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }],
        customers: [{ mobile: 919400000001, email: 'priya@example.com', loyaltyPrograms: [1] }, { externalId: 'X2' }],
      },
    ],
  } as const;
}

type File = ReturnType<typeof goodFile>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Mutable = any;

function problemsOf(value: unknown): string[] {
  try {
    checkDeclarations(value);
    return [];
  } catch (error) {
    if (!(error instanceof DeclarationError)) throw error;
    return error.problems;
  }
}

function broken(change: (file: Mutable) => void): string[] {
  const file: File = structuredClone(goodFile());
  change(file);
  return problemsOf(file);
}

describe('checkDeclarations', () => {
  it('accepts a good file and returns it unchanged', () => {
    const file = goodFile();
    expect(checkDeclarations(file)).toEqual(file);
    expect(checkDeclarations({ orgs: [] })).toEqual({ orgs: [] });
  });

  it('names the path of shape errors', () => {
    expect(broken((f) => delete f.orgs[0].tills[0].password)).toContainEqual(
      expect.stringMatching(/^orgs\[0\]\.tills\[0\]/),
    );
    expect(
      broken((f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[1].membershipCycle.unit = 'WEEKS')),
    ).toContainEqual(
      expect.stringMatching(/^orgs\[0\]\.loyaltyPrograms\[0\]\.partnerPrograms\[1\]\.membershipCycle\.unit: /),
    );
    expect(broken((f) => (f.orgs[0].colour = 'red'))).toContain('orgs[0]: must not have additional properties');
    expect(broken((f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[0].name = 'x'.repeat(51)))).toContainEqual(
      expect.stringMatching(/^orgs\[0\]\.loyaltyPrograms\[0\]\.partnerPrograms\[0\]\.name: /),
    );
  });

  const pp = 'orgs[0].loyaltyPrograms[0].partnerPrograms';
  it.each<[string, (file: Mutable) => void, string]>([
    ['an org declared twice', (f) => f.orgs.push({ id: 100, name: 'Again' }), 'orgs[1].id: org 100 is declared twice'],
    [
      'an unknown time zone',
      (f) => (f.orgs[0].timezone = 'Mars/Base'),
      'orgs[0].timezone: "Mars/Base" is not an IANA time zone',
    ],
    [
      'an offset posing as a zone',
      (f) => (f.orgs[0].timezone = '+05:30'),
      'orgs[0].timezone: "+05:30" is not an IANA time zone',
    ],
    [
      'a loyalty program declared twice, even in two orgs',
      (f) => f.orgs.push({ id: 200, name: 'Other', loyaltyPrograms: [{ id: 1, name: 'Dup' }] }),
      'orgs[1].loyaltyPrograms[0].id: loyalty program 1 is declared twice',
    ],
    [
      'a SUPPLEMENTARY program without a cycle',
      (f) => delete f.orgs[0].loyaltyPrograms[0].partnerPrograms[2].membershipCycle,
      `${pp}[2].membershipCycle: required for a SUPPLEMENTARY program`,
    ],
    [
      'a SUPPLEMENTARY program with tiers',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[2].tiers = ['A']),
      `${pp}[2].tiers: a SUPPLEMENTARY program has no tiers`,
    ],
    [
      'an EXTERNAL program with a cycle',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[0].membershipCycle = { unit: 'DAYS', value: 1 }),
      `${pp}[0].membershipCycle: only SUPPLEMENTARY programs have a cycle`,
    ],
    [
      'an EXTERNAL program with a backup',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[0].backupProgram = 'SPP_2'),
      `${pp}[0].backupProgram: only SUPPLEMENTARY programs have a backup program`,
    ],
    [
      'an EXTERNAL program with reminders',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[0].expiryReminderDays = [3]),
      `${pp}[0].expiryReminderDays: only SUPPLEMENTARY programs have expiry reminders`,
    ],
    [
      'tier names equal but for case',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[0].tiers = ['Gold', 'GOLD']),
      `${pp}[0].tiers: tier names must be unique (case-insensitively)`,
    ],
    [
      'a program that is its own backup',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[2].backupProgram = 'Spp_2'),
      `${pp}[2].backupProgram: a program cannot be its own backup`,
    ],
    [
      'an expiry date that is not ISO-8601',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[1].expiryDate = '31/12/2030'),
      `${pp}[1].expiryDate: not an ISO-8601 date`,
    ],
    [
      'a partner program name declared twice in an org (case-insensitively)',
      (f) => f.orgs[0].loyaltyPrograms[0].partnerPrograms.push({ name: 'GOLDSTAR', type: 'EXTERNAL' }),
      `${pp}[3].name: "GOLDSTAR" is declared twice in this org`,
    ],
    [
      'a backup program that is not declared in the org',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[1].backupProgram = 'SPP_9'),
      `${pp}[1].backupProgram: no program "SPP_9" in this org`,
    ],
    [
      'a backup program that is not SUPPLEMENTARY',
      (f) => (f.orgs[0].loyaltyPrograms[0].partnerPrograms[1].backupProgram = 'Goldstar'),
      `${pp}[1].backupProgram: "Goldstar" is not SUPPLEMENTARY`,
    ],
    [
      'a till username declared twice, even in two orgs',
      (f) =>
        f.orgs.push({ id: 200, name: 'Other', tills: [{ username: 'demo.till', password: 'p', accessGroups: [] }] }),
      'orgs[1].tills[0].username: "demo.till" is declared twice',
    ],
    [
      'a customer without identifiers',
      (f) => f.orgs[0].customers.push({ loyaltyPrograms: [1] }),
      'orgs[0].customers[2]: needs at least one of mobile, email, externalId',
    ],
    [
      "a customer enrolled in another org's loyalty program",
      (f) => (f.orgs[0].customers[1].loyaltyPrograms = [7]),
      'orgs[0].customers[1].loyaltyPrograms: loyalty program 7 is not declared in this org',
    ],
  ])('rejects %s, naming the path', (_rule, change, problem) => {
    expect(broken(change)).toEqual([problem]);
  });

  it('reports every problem at once', () => {
    const problems = broken((f) => {
      f.orgs[0].timezone = 'Nowhere';
      f.orgs[0].loyaltyPrograms[0].partnerPrograms[2].tiers = ['A'];
    });
    expect(problems).toHaveLength(2);
    expect(() => checkDeclarations({ orgs: [{ id: 1, name: 'x', timezone: 'Nowhere' }] })).toThrow(
      /Invalid declarations/,
    );
  });
});

describe('checkPartnerProgram', () => {
  it('prefixes every problem with the path it is given', () => {
    const program: PartnerProgramDeclaration = { name: 'P', type: 'SUPPLEMENTARY', tiers: ['A'], expiryDate: 'soon' };
    expect(checkPartnerProgram(program, 'body')).toEqual([
      'body.membershipCycle: required for a SUPPLEMENTARY program',
      'body.tiers: a SUPPLEMENTARY program has no tiers',
      'body.expiryDate: not an ISO-8601 date',
    ]);
  });
});

describe('readDeclarationsFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'declarations-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the demo file', async () => {
    const declarations = await readDeclarationsFile('config/demo.yaml');
    const [org] = declarations.orgs;
    expect(org).toMatchObject({
      id: 100,
      name: 'Demo Retail',
      timezone: 'Asia/Kolkata',
      configs: { ALLOW_MEMBERSHIP_RELINKING: true },
    });
    expect(org?.loyaltyPrograms?.[0]?.partnerPrograms?.map((p) => p.name)).toEqual([
      'Goldstar',
      'Coalition',
      'SPP_1',
      'SPP_2',
    ]);
    expect(org?.customers).toHaveLength(3);
  });

  it('prefixes problems with the file name', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'orgs:\n  - id: 1\n    name: X\n    timezone: Nowhere\n');
    await expect(readDeclarationsFile(file)).rejects.toMatchObject({
      problems: [`${file}: orgs[0].timezone: "Nowhere" is not an IANA time zone`],
    });
  });

  it('says when the file is missing or not YAML, and treats an empty file as no orgs', async () => {
    await expect(readDeclarationsFile(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot be read/);
    const notYaml = join(dir, 'broken.yaml');
    await writeFile(notYaml, 'orgs: [\n');
    await expect(readDeclarationsFile(notYaml)).rejects.toThrow(/is not valid YAML/);
    const empty = join(dir, 'empty.yaml');
    await writeFile(empty, '');
    expect(await readDeclarationsFile(empty)).toEqual({ orgs: [] });
  });
});
