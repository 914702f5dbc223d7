#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Role } from './config.js';
import { Scheduler } from './jobs/scheduler.js';
import { systemClock } from './domain/clock.js';
import { SandboxClock } from './domain/sandbox-clock.js';
import { createLogger, openConfiguredDatabase, serve } from './server.js';

const program = new Command()
  .name('partner-programs')
  .description('Partner program service: links loyalty customers to partner programs.');

const roleOption = new Option('--role <role>', 'what this process runs: api (HTTP), worker (scheduler) or all').choices(
  ['api', 'worker', 'all'],
);

program
  .command('serve', { isDefault: true })
  .description('start the service (migrates the database and applies CONFIG_FILE first)')
  .addOption(roleOption)
  .action(async (options: { role?: Role }) => {
    await serve(loadConfig(options.role ? { ...process.env, ROLE: options.role } : process.env));
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = loadConfig();
    const database = await openConfiguredDatabase(config, createLogger(config));
    await database.close();
  });

const jobs = program.command('jobs').description('the scheduler');
jobs
  .command('run')
  .description('run the scheduler (the worker role); with --once, handle everything due now and exit')
  .option('--once', 'one round of every sweep, then exit')
  .action(async (options: { once?: boolean }) => {
    const config = loadConfig({ ...process.env, ROLE: 'worker' });
    if (!options.once) return serve(config);
    const logger = createLogger(config);
    const database = await openConfiguredDatabase(config, logger);
    try {
      const sandbox = config.allowClockOverride ? new SandboxClock(database.db, systemClock) : undefined;
      await sandbox?.load();
      const scheduler = new Scheduler({
        db: database.db,
        clock: sandbox ?? systemClock,
        batchSize: config.schedulerBatchSize,
        intervalMs: config.schedulerIntervalMs,
        logger,
      });
      logger.info({ report: await scheduler.runOnce() }, 'due work handled');
    } finally {
      await database.close();
    }
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
});
