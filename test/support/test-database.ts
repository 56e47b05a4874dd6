import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config/app.config';
import { buildDataSourceOptions } from '../../src/database/data-source-options';

/**
 * Which database the end-to-end suite runs on. The `e2e` project uses the embedded SQLite file in
 * each test's data directory; the `e2e-postgres` project (test/support/postgres-project.ts) runs
 * the same files on TEST_DATABASE_URL, in a fresh schema per data directory that is dropped when
 * the test file ends.
 */
export function onPostgres(): boolean {
  return process.env.E2E_DATABASE === 'postgres';
}

/** The schema a data directory's service uses on PostgreSQL (the same on every restart). */
export function schemaFor(dataDir: string): string {
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex');
  return `e2e_${digest.slice(0, 16)}`;
}

const created = new Set<string>();

async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: requiredUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function requiredUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the e2e-postgres project needs it');
  return url;
}

/**
 * The database a service on `dataDir` uses in this run; creates its schema on PostgreSQL.
 * `postgres: true` asks for PostgreSQL in any project (the multi-process test).
 */
export async function prepareDatabase(
  dataDir: string,
  { postgres = onPostgres() } = {},
): Promise<DatabaseConfig> {
  if (!postgres) return { type: 'sqlite', path: path.join(dataDir, 'modeldock.sqlite') };
  const schema = schemaFor(dataDir);
  if (!created.has(schema)) {
    await withClient((client) => client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`));
    created.add(schema);
  }
  return { type: 'postgres', url: requiredUrl(), schema };
}

/** The environment that points a service at `dataDir`'s database (nothing extra on SQLite). */
export async function databaseEnv(
  dataDir: string,
  options: { postgres?: boolean } = {},
): Promise<Record<string, string>> {
  const database = await prepareDatabase(dataDir, options);
  if (database.type === 'sqlite') return {};
  return { DATABASE_URL: database.url, DATABASE_SCHEMA: database.schema ?? '' };
}

/** Drops every schema this test file created. */
export async function dropCreatedSchemas(): Promise<void> {
  if (created.size === 0) return;
  await withClient(async (client) => {
    for (const schema of created) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  created.clear();
}

/** Every cell of every table of `dataDir`'s database, as JSON text (to search for secrets). */
export async function databaseText(dataDir: string): Promise<string> {
  const database = await prepareDatabase(dataDir);
  const dataSource = new DataSource(buildDataSourceOptions({ database }));
  await dataSource.initialize();
  try {
    const tables: { name: string }[] =
      database.type === 'postgres'
        ? await dataSource.query(
            'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1',
            [database.schema],
          )
        : await dataSource.query("SELECT name FROM sqlite_master WHERE type = 'table'");
    let text = '';
    for (const { name } of tables) {
      text += JSON.stringify(await dataSource.query(`SELECT * FROM "${name}"`));
    }
    return text;
  } finally {
    await dataSource.destroy();
  }
}
