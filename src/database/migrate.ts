import { DataSource } from 'typeorm';

/** Any constant shared by every ModelDock process: the advisory lock's key. */
const MIGRATION_LOCK_KEY = 7_764_300_000;

/**
 * Applies pending migrations. On PostgreSQL several replicas may start at once against one
 * database; TypeORM takes no lock, so a session-level advisory lock lets one process migrate while
 * the others wait, then find nothing left to do. SQLite has one process per file.
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
