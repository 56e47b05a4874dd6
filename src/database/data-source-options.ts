import * as fs from 'node:fs';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import { ENTITIES } from './entities';
import { MIGRATIONS, migrationsFor } from '../../migrations';

/**
 * One definition for the app and the TypeORM CLI. Migrations, never `synchronize`. Without
 * `objectStore` (a DataSource for the schema alone) objects stay where they are.
 */
export function buildDataSourceOptions(
  config: Pick<AppConfig, 'database'> & Partial<Pick<AppConfig, 'objectStore'>>,
): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: config.objectStore ? migrationsFor(config.objectStore) : MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
  } as const;
  const database = config.database;
  if (database.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: database.url,
      schema: database.schema,
      // Raw SQL (migrations, storage) names tables unqualified: the search path points at the schema.
      extra: {
        max: 10,
        ...(database.schema ? { options: `-c search_path=${database.schema}` } : {}),
      },
    };
  }
  fs.mkdirSync(path.dirname(database.path), { recursive: true });
  return {
    ...common,
    type: 'sqlite',
    database: database.path,
    // WAL lets readers (e.g. a backup) work while the service writes.
    enableWAL: true,
    busyTimeout: 5000,
    driver: SQLITE_WITHOUT_TRACE,
  };
}

/**
 * sqlite3 as TypeORM loads it, minus the tracing: TypeORM calls `.verbose()` on the driver, which
 * wraps every call to capture a stack and util.inspect its arguments (the SQL and every parameter)
 * on the event loop, for a longer stack in error messages. TypeORM's QueryFailedError still names
 * the query and its parameters.
 */
const SQLITE_WITHOUT_TRACE = { verbose: () => sqlite3 };
