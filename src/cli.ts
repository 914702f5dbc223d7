#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, openConfiguredDatabase, serve } from './server.js';

const program = new Command()
  .name('partner-programs')
  .description('Partner program service: links loyalty customers to partner programs.');

program
  .command('serve', { isDefault: true })
  .description('start the HTTP API (migrates the database and applies CONFIG_FILE first)')
  .action(async () => {
    await serve(loadConfig());
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = loadConfig();
    const database = await openConfiguredDatabase(config, createLogger(config));
    await database.close();
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
});
