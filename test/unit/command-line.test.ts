import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/process.js';

// The command line itself: help, and words it does not know. Nothing here reaches a database;
// a command line that started the service instead would be stopped when the tests end.
const started: ChildProcess[] = [];
const dataDir = tempDir('pp-cli-');
afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function run(...args: string[]) {
  const cli = runCli(args, { PORT: '0', DATA_DIR: dataDir });
  started.push(cli.child);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe.concurrent('partner-programs', () => {
  it.each([
    'partner-programs',
    'partner-programs serve',
    'partner-programs migrate',
    'partner-programs jobs',
    'partner-programs jobs run',
  ])('%s --help prints its usage to stdout and exits 0', async (command) => {
    const { code, stdout, stderr } = await run(...command.split(' ').slice(1), '--help');
    expect(stderr).toBe('');
    expect(stdout).toMatch(new RegExp(`^Usage: ${command} \\[options\\]`));
    expect(code).toBe(0);
  });

  it('lists every command in its help, and says how to start the service', async () => {
    const { stdout } = await run('--help');
    for (const command of ['serve', 'migrate', 'jobs']) expect(stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    expect(stdout).toContain('Start the service with `partner-programs serve`.');
  });

  it('answers an unknown command as such, and exits 1 without starting anything', async () => {
    const { code, stdout, stderr } = await run('bogus');
    expect(stderr).toBe("error: unknown command 'bogus'\n(add --help for usage)\n");
    expect(stdout).toBe('');
    expect(code).toBe(1);
  });

  it('suggests the command meant', async () => {
    const { code, stderr } = await run('serv');
    expect(stderr).toContain("error: unknown command 'serv'\n(Did you mean serve?)");
    expect(code).toBe(1);
  });

  it('answers an unknown subcommand of jobs as such', async () => {
    const { code, stderr } = await run('jobs', 'bogus');
    expect(stderr).toContain("error: unknown command 'bogus'");
    expect(code).toBe(1);
  });

  it('wants a command: alone, it prints the help on stderr and exits 1', async () => {
    const { code, stdout, stderr } = await run();
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage: partner-programs \[options\] \[command\]/);
    expect(stderr).toMatch(/^ {2}serve\b/m);
    expect(code).toBe(1);
  });

  it('refuses an argument a command does not take', async () => {
    const { code, stderr } = await run('migrate', 'now');
    expect(stderr).toContain("error: too many arguments for 'migrate'");
    expect(code).toBe(1);
  });
});
