import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from '../../migrations';

/** One definition for the app and the TypeORM CLI. Migrations, never `synchronize`. */
export function buildDataSourceOptions(config: Pick<AppConfig, 'database'>): DataSourceOptions {
  fs.mkdirSync(path.dirname(config.database.path), { recursive: true });
  return {
    type: 'sqlite',
    database: config.database.path,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // WAL lets readers (e.g. a backup) work while the service writes.
    enableWAL: true,
    busyTimeout: 5000,
  };
}
