import { Command, InvalidArgumentError } from 'commander';
import { serviceUrl, DEFAULT_URL } from './bulk-options.js';
import { CannotRun } from './cannot-run.js';
import { importCustomers } from './import-command.js';
import { link } from './link-command.js';

/**
 * The bulk commands of SPEC §2a, clients of the HTTP API only. A usage mistake exits 2 like
 * every other reason the command cannot run (commander's own default would be 1).
 */
export function addBulkCommands(program: Command): void {
  const credentialsHelp =
    '\nEnvironment: PP_URL (the service, default ' +
    DEFAULT_URL +
    '; --url wins), PP_USERNAME and PP_PASSWORD (a till; the plain password, sent as its md5)' +
    ' or PP_OAUTH_KEY and PP_OAUTH_SECRET (an OAuth client).' +
    '\nExit status: 0 every row succeeded, 1 some rows failed (RESULT.csv says which), 2 the command could not run.';
  program
    .command('link')
    .description(
      'link customers to partner programs from a CSV file, 50 customers a request, with a result file of every row',
    )
    .argument(
      '<FILE.csv>',
      'header of any of mobile, email, externalId, id, partnerProgramName, partnerMembershipId, partnerTierName, partnerTierExpiryDate, membershipStartDate',
    )
    .option('--out <RESULT.csv>', 'the result file (default: FILE.result.csv)')
    .option('--concurrency <N>', 'requests in flight', positive, 4)
    .option('--resume', 'go on from RESULT.csv: send only the rows it does not settle')
    .option('--url <URL>', 'the service')
    .addHelpText('after', credentialsHelp)
    .exitOverride(usageExit)
    .action(async (file: string, options: { out?: string; concurrency: number; resume?: boolean; url?: string }) =>
      finish(() =>
        link({
          file,
          out: options.out ?? resultPath(file),
          concurrency: options.concurrency,
          resume: options.resume === true,
          url: serviceUrl(options.url, process.env),
          env: process.env,
        }),
      ),
    );

  program
    .command('import-customers')
    .description(
      'upsert customers from a CSV file through the admin API, 1,000 a request, with a result file of every row',
    )
    .argument('<FILE.csv>', 'header of any of id, mobile, email, externalId, loyaltyPrograms (ids separated by ;)')
    .requiredOption('--org <ID>', 'the org the customers belong to', positive)
    .option('--out <RESULT.csv>', 'the result file (default: FILE.result.csv)')
    .option('--concurrency <N>', 'requests in flight', positive, 4)
    .option('--url <URL>', 'the service')
    .addHelpText(
      'after',
      '\nEnvironment: PP_URL (the service, default ' +
        DEFAULT_URL +
        '; --url wins), ADMIN_TOKEN (the admin API).' +
        '\nExit status: 0 every row succeeded, 1 some rows failed (RESULT.csv says which), 2 the command could not run.',
    )
    .exitOverride(usageExit)
    .action(async (file: string, options: { org: number; out?: string; concurrency: number; url?: string }) =>
      finish(() =>
        importCustomers({
          file,
          org: options.org,
          out: options.out ?? resultPath(file),
          concurrency: options.concurrency,
          url: serviceUrl(options.url, process.env),
          env: process.env,
        }),
      ),
    );
}

/** `members.csv` → `members.result.csv`. */
function resultPath(file: string): string {
  return /\.csv$/i.test(file) ? file.replace(/\.csv$/i, '.result.csv') : `${file}.result.csv`;
}

function positive(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return value;
}

function usageExit(error: { exitCode: number }): never {
  process.exit(error.exitCode === 0 ? 0 : 2);
}

/**
 * Runs the command and exits with its status. Exiting at once rather than waiting for the
 * event loop to drain: a batch still retrying when the command stopped must not hold it open.
 */
async function finish(command: () => Promise<0 | 1 | 2>): Promise<void> {
  let status: number;
  try {
    status = await command();
  } catch (error) {
    if (!(error instanceof CannotRun)) throw error;
    process.stderr.write(`Cannot run: ${error.message}\n`);
    status = 2;
  }
  process.exit(status);
}
