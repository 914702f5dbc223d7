import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, serverBackend, createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, tempDir } from '../support/process.js';
import { differences, readmeBlocks } from '../support/readme.js';

// The README followed literally: every `sh` block runs, in order, in one shell, as a reader
// would type it; every curl answer is held against what the README promises.
const repo = resolve(import.meta.dirname, '../..');
const workDir = tempDir('pp-readme-');
let database: TestDatabase | undefined;
let servicePid: number | undefined;

afterAll(async () => {
  if (servicePid) {
    try {
      process.kill(-servicePid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  await database?.drop();
  rmSync(workDir, { recursive: true, force: true });
});

const PRELUDE = readFileSync(join(repo, 'test/support/readme-terminal.sh'), 'utf8');

class Terminal {
  private readonly shell;
  private output = '';
  private errors = '';
  private waiting: ((text: string) => void) | undefined;

  constructor(env: Record<string, string>) {
    this.shell = spawn('bash', ['--noprofile', '--norc'], {
      cwd: workDir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.shell.stdout.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      const end = this.output.indexOf('\x1d');
      if (end >= 0 && this.waiting) {
        const text = this.output.slice(0, end);
        this.output = this.output.slice(this.output.indexOf('\n', end) + 1);
        this.waiting(text);
      }
    });
    this.shell.stderr.on('data', (chunk: Buffer) => (this.errors += chunk.toString()));
    this.shell.stdin.write(PRELUDE);
  }

  /** Types `script`, and answers what it printed and its exit status. */
  run(script: string): Promise<{ text: string; stderr: string }> {
    this.errors = '';
    return new Promise((done) => {
      this.waiting = (text) => {
        this.waiting = undefined;
        done({ text, stderr: this.errors });
      };
      this.shell.stdin.write(`${script}\nprintf '\\035\\n'\n`);
    });
  }

  close(): void {
    this.shell.stdin.end();
    // What a block started in the background (the webhook receiver) stops with the terminal: the
    // shell leads its own process group (the service has a session of its own, stopped apart).
    try {
      process.kill(-this.shell.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

interface Answer {
  status: number;
  body: string;
}

function answersOf(text: string): Answer[] {
  return text
    .split('\x1e\n')
    .slice(0, -1)
    .map((record) => {
      const at = record.lastIndexOf('\n\x1f');
      return { body: record.slice(0, at), status: Number(record.slice(at + 2).trim()) };
    });
}

describe(`the README, followed literally (${backend})`, () => {
  it('keeps every promise of its examples', { timeout: 180_000 }, async () => {
    const port = await freePort();
    let receiverPort = await freePort();
    while (receiverPort === port) receiverPort = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TMPDIR: workDir,
      PORT: String(port),
      RECEIVER_PORT: String(receiverPort),
      LOG_LEVEL: 'warn',
      REPO: repo,
      SERVICE_LOG: join(workDir, 'service.log'),
      SERVICE_PID: join(workDir, 'service.pid'),
    };
    if (serverBackend) {
      database = await createTestDatabase();
      await database.close();
      env.DATABASE_URL = database.url!;
    }
    const blocks = readmeBlocks(join(repo, 'README.md'));
    const terminal = new Terminal(env);
    const problems: string[] = [];
    let calls = 0;
    try {
      for (const block of blocks) {
        const { text, stderr } = await terminal.run(block.script);
        if (!servicePid) {
          try {
            servicePid = Number(readFileSync(env.SERVICE_PID!, 'utf8'));
          } catch {
            // the service is not started yet
          }
        }
        if (stderr.trim() !== '') problems.push(`block at line ${block.line} wrote to stderr: ${stderr.trim()}`);
        const answers = answersOf(text);
        calls += answers.length;
        answers.forEach((answer, index) => {
          const where = `block at line ${block.line}, curl #${index + 1}`;
          const promise = block.expected.get(index);
          if (promise) {
            let body: unknown;
            try {
              body = JSON.parse(answer.body);
            } catch {
              problems.push(`${where}: answered ${answer.status} ${answer.body}, not JSON`);
              return;
            }
            for (const d of differences(promise.json, body))
              problems.push(`${where} (README line ${promise.line}): ${d}`);
          } else if (answer.status < 200 || answer.status > 299 || answer.body.includes('"status":false')) {
            // An answer the README does not show must be a success, every entry of a batch included.
            problems.push(`${where}: answered ${answer.status} ${answer.body}`);
          }
        });
      }
    } finally {
      terminal.close();
    }
    expect(problems).toEqual([]);
    // The webhook section's receiver verified the link's delivery with the standardwebhooks library.
    expect(readFileSync(join(workDir, 'receiver.log'), 'utf8')).toMatch(
      /^verified partnerProgramLinked Goldstar 919400000001 \d{4}-\d\d-\d\dT/m,
    );
    expect(servicePid).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(10);
  });
});
