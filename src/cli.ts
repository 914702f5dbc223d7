#!/usr/bin/env node
import { inspect } from 'node:util';
import { Command, Option } from 'commander';
import { addBulkCommands } from './client/commands.js';
import type { Role } from './config.js';

// The service's modules are imported by the commands that run the service, not at start: the
// bulk commands are HTTP clients, and loading the server, its drivers and PGlite would more than
// double their memory.
const service = async () => {
  const [config, server] = await Promise.all([import('./config.js'), import('./server.js')]);
  return { ...config, ...server };
};

// Every command must be named: `partner-programs` alone prints the help, and an unknown word is
// an unknown command (with a default command, commander would pass it to that command instead).
const program = new Command()
  .name('partner-programs')
  .description('Partner program service: links loyalty customers to partner programs.')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', '\nStart the service with `partner-programs serve`.');

const settingsHelp =
  '\nSettings come from the environment (PORT, HOST, DATABASE_URL, DATA_DIR, CONFIG_FILE, LOG_LEVEL, …):' +
  "\nsee the README's Configuration section.";

const roleOption = new Option('--role <role>', 'what this process runs: api (HTTP), worker (scheduler) or all').choices(
  ['api', 'worker', 'all'],
);

program
  .command('serve')
  .description('start the service (migrates the database and applies CONFIG_FILE first); stops on SIGTERM or SIGINT')
  .addOption(roleOption)
  .addHelpText('after', settingsHelp)
  .action((options: { role?: Role }) =>
    reporting('Cannot start', async () => {
      const { serve, loadConfig } = await service();
      await serve(loadConfig(options.role ? { ...process.env, ROLE: options.role } : process.env));
    }),
  );

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .addHelpText('after', settingsHelp)
  .action(() =>
    reporting('Cannot migrate', async () => {
      const { loadConfig, openConfiguredDatabase, createLogger } = await service();
      const config = loadConfig();
      const database = await openConfiguredDatabase(config, createLogger(config));
      await database.close();
    }),
  );

const jobs = program.command('jobs').description('the scheduler');
jobs
  .command('run')
  .description('run the scheduler (the worker role); with --once, handle everything due now and exit')
  .option('--once', 'one round of every sweep, then exit')
  .addHelpText('after', settingsHelp)
  .action((options: { once?: boolean }) =>
    options.once
      ? reporting('Cannot run the scheduler', runDueWorkOnce)
      : reporting('Cannot start', async () => {
          const { serve, loadConfig } = await service();
          await serve(loadConfig({ ...process.env, ROLE: 'worker' }));
        }),
  );

addBulkCommands(program);

async function runDueWorkOnce(): Promise<void> {
  const { loadConfig, createLogger, openConfiguredDatabase } = await service();
  const [{ systemClock }, { SandboxClock }, { Scheduler }] = await Promise.all([
    import('./domain/clock.js'),
    import('./domain/sandbox-clock.js'),
    import('./jobs/scheduler.js'),
  ]);
  const config = loadConfig({ ...process.env, ROLE: 'worker' });
  const logger = createLogger(config);
  const database = await openConfiguredDatabase(config, logger);
  try {
    const sandbox = config.allowClockOverride ? new SandboxClock(database.db, systemClock) : undefined;
    await sandbox?.load();
    const scheduler = new Scheduler({
      db: database.db,
      clock: sandbox ?? systemClock,
      batchSize: config.schedulerBatchSize,
      lanes: config.schedulerLanes,
      intervalMs: config.schedulerIntervalMs,
      logger,
    });
    logger.info({ report: await scheduler.runOnce() }, 'due work handled');
  } finally {
    await database.close();
  }
}

/**
 * Runs a command. A failure is reported on stderr in one line that says what failed and what to
 * do, and the exit code is 1; the stack and causes follow only at LOG_LEVEL debug or trace.
 * (Once the service has started, errors are the logger's: close-with-grace logs them and stops.)
 */
async function reporting(failed: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    process.stderr.write(withoutPassword(await failureReport(failed, error)));
    process.exitCode = 1;
  }
}

async function failureReport(failed: string, error: unknown): Promise<string> {
  const [{ ConfigError, StartupError }, { DataDirLockError }, { DatabaseUnavailableError }, { MigrationError }] =
    await Promise.all([
      service(),
      import('./db/data-dir-lock.js'),
      import('./db/database.js'),
      import('./db/migrate.js'),
    ]);
  const { DeclarationError } = await import('./domain/configuration/declarations.js');
  const withStack = /^(debug|trace)$/.test(process.env.LOG_LEVEL?.trim() ?? '');
  const stack = withStack ? `${inspect(error)}\n` : '';
  // Their messages list every problem, one per line.
  if (error instanceof ConfigError || error instanceof DeclarationError) return `${error.message}\n${stack}`;
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
  const explained = [StartupError, DatabaseUnavailableError, DataDirLockError, MigrationError].some(
    (kind) => error instanceof kind,
  );
  const hint = explained || withStack ? '' : ' (LOG_LEVEL=debug prints the stack)';
  return `${failed}: ${message}${hint}\n${stack}`;
}

/** The password of DATABASE_URL never reaches the terminal, whatever a driver put in a message. */
function withoutPassword(text: string): string {
  let password: string;
  try {
    password = new URL(process.env.DATABASE_URL ?? '').password;
  } catch {
    return text;
  }
  if (password === '') return text;
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // not percent-encoded after all
  }
  return text.replaceAll(password, '****').replaceAll(decoded, '****');
}

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${inspect(error)}\n`);
  process.exitCode = 1;
});
