import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from '../../migrations';

/** One definition for the app and the TypeORM CLI. Migrations, never `synchronize`. */
export function buildDataSourceOptions(config: Pick<AppConfig, 'database'>): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
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
  };
}
