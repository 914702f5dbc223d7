import closeWithGrace from 'close-with-grace';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.js';
import type { App } from './http/app-instance.js';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { systemClock, type Clock } from './domain/clock.js';
import { applyDeclarations } from './domain/configuration.js';
import { readDeclarationsFile } from './domain/declarations.js';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'partner-programs' } });
}

export async function openConfiguredDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  const handle = await openDatabase(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir },
  );
  try {
    const applied = await migrateToLatest(handle.db);
    logger.info({ backend: handle.backend, applied }, 'database ready');
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface RunningServer {
  app: App;
  database: DatabaseHandle;
  address: string;
  close(): Promise<void>;
}

/** The process: config → logger → database (migrated) → declarations → app → listen. */
export async function startServer(config: Config, clock: Clock = systemClock): Promise<RunningServer> {
  const logger = createLogger(config);
  const declarations = await readDeclarationsFile(config.configFile);
  const database = await openConfiguredDatabase(config, logger);
  let app: App | undefined;
  try {
    await applyDeclarations(database.db, declarations, { defaultTimezone: config.timezone, clock });
    logger.info({ file: config.configFile, orgs: declarations.orgs.length }, 'configuration applied');
    app = await buildApp({ config, db: database.db, clock, logger });
    const address = await app.listen({ port: config.port, host: config.host });
    const running = app;
    return {
      app: running,
      database,
      address,
      close: async () => {
        await running.close();
        await database.close();
      },
    };
  } catch (error) {
    await app?.close();
    await database.close();
    throw error;
  }
}

/** Runs until SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the pool. */
export async function serve(config: Config): Promise<void> {
  const server = await startServer(config);
  closeWithGrace({ delay: 10_000, logger: server.app.log }, async ({ signal, err }) => {
    if (err) server.app.log.error({ err }, 'shutting down after an error');
    else server.app.log.info({ signal }, 'shutting down');
    await server.close();
  });
}
