import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations';
import { DatabaseConfig } from '../src/config/app.config';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { DatabaseObjectStorage } from '../src/storage/database-object-storage';
import { makeDataDir, removeDataDir } from './support/test-app';
import { prepareDatabase } from './support/test-database';

/**
 * Upgrading a database that holds data: the migrations that move dataset contents and artifacts
 * into `stored_objects` keep every byte, and their `down` puts them back (on SQLite, and on
 * PostgreSQL in the e2e-postgres project).
 */
const BEFORE_STORAGE = MIGRATIONS.findIndex((m) => m.name === 'RunningAtScale1764300000000');

describe('upgrading a database with data in it', () => {
  let dataDir: string;
  let database: DatabaseConfig;

  const open = async (migrations: typeof MIGRATIONS) =>
    new DataSource({ ...buildDataSourceOptions({ database }), migrations }).initialize();
  const params = (count: number) =>
    Array.from({ length: count }, (_, i) => (database.type === 'postgres' ? `$${i + 1}` : '?'));

  const content = Buffer.from([0, 1, 2, 250, 255, 0, 42]);
  const artifact = JSON.stringify({ format: 'modeldock.linear/v1', note: 'ünïcødé ✓' });
  const ids = {
    dataset: '11111111-1111-4111-8111-111111111111',
    model: '22222222-2222-4222-8222-222222222222',
    version: '33333333-3333-4333-8333-333333333333',
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    database = await prepareDatabase(dataDir);
  });

  afterAll(() => removeDataDir(dataDir));

  it('moves dataset contents and artifacts to object storage, byte for byte, and back', async () => {
    const old = await open(MIGRATIONS.slice(0, BEFORE_STORAGE));
    const now = new Date().toISOString();
    await old.query(
      `INSERT INTO datasets (id, name, row_count, columns, checksum, size_bytes, content, created_at)
       VALUES (${params(8).join(', ')})`,
      [ids.dataset, 'old', 1, '[]', 'c'.repeat(64), content.length, content, now],
    );
    await old.query(
      `INSERT INTO registered_models (id, name, tags, last_version, created_at, updated_at)
       VALUES (${params(6).join(', ')})`,
      [ids.model, 'old-model', '{}', 1, now, now],
    );
    await old.query(
      `INSERT INTO model_versions (id, model_id, version, status, algorithm, format, input_schema,
         output_schema, hyperparameters, metrics, loss_history, artifact, checksum, size_bytes,
         tags, created_at)
       VALUES (${params(16).join(', ')})`,
      [
        ids.version,
        ids.model,
        1,
        'ready',
        'linear-regression',
        'modeldock.linear/v1',
        '[]',
        '[]',
        '{}',
        '{}',
        '[]',
        artifact,
        'a'.repeat(64),
        Buffer.byteLength(artifact),
        '{}',
        now,
      ],
    );
    await old.destroy();

    const upgraded = await open(MIGRATIONS);
    const storage = new DatabaseObjectStorage(upgraded);
    expect(await storage.get(`datasets/${ids.dataset}`)).toEqual(content);
    expect((await storage.get(`artifacts/${ids.version}`))?.toString('utf8')).toBe(artifact);
    const versionColumns = (await upgraded.createQueryRunner().getTable('model_versions'))!.columns;
    expect(versionColumns.map((column) => column.name)).not.toContain('artifact');

    // Down again: the bytes are back in their columns.
    for (let i = MIGRATIONS.length; i > BEFORE_STORAGE; i--) await upgraded.undoLastMigration();
    const [dataset] = await upgraded.query(
      `SELECT content FROM datasets WHERE id = ${params(1)[0]}`,
      [ids.dataset],
    );
    expect(Buffer.from(dataset.content)).toEqual(content);
    const [version] = await upgraded.query(
      `SELECT artifact FROM model_versions WHERE id = ${params(1)[0]}`,
      [ids.version],
    );
    expect(version.artifact).toBe(artifact);
    await upgraded.destroy();
  });

  it('keeps every model, version, alias and event through Monitoring, up and down', async () => {
    const before = MIGRATIONS.findIndex((m) => m.name === 'Monitoring1764700000000');
    const old = await open(MIGRATIONS.slice(0, before));
    const now = new Date().toISOString();
    const model = '44444444-4444-4444-8444-444444444444';
    await old.query(
      `INSERT INTO registered_models (id, name, tags, last_version, created_at, updated_at)
       VALUES (${params(6).join(', ')})`,
      [model, 'kept', '{}', 1, now, now],
    );
    await old.query(
      `INSERT INTO model_versions (id, model_id, version, status, algorithm, format, input_schema,
         output_schema, hyperparameters, metrics, loss_history, checksum, size_bytes, tags, created_at)
       VALUES (${params(15).join(', ')})`,
      [
        '55555555-5555-4555-8555-555555555555',
        model,
        1,
        'ready',
        'linear-regression',
        'modeldock/v2',
        '[]',
        '[]',
        '{}',
        '{}',
        '[]',
        'a'.repeat(64),
        2,
        '{}',
        now,
      ],
    );
    await old.query(
      `INSERT INTO model_aliases (model_id, alias, version, updated_at) VALUES (${params(4).join(', ')})`,
      [model, 'production', 1, now],
    );
    await old.query(
      `INSERT INTO model_events (model_id, action, created_at) VALUES (${params(3).join(', ')})`,
      [model, 'model_created', now],
    );
    await old.destroy();
    const counts = async (source: DataSource) => {
      const result: Record<string, number> = {};
      for (const table of [
        'registered_models',
        'model_versions',
        'model_aliases',
        'model_events',
      ]) {
        const [row] = await source.query(
          `SELECT COUNT(*) AS n FROM ${table} WHERE ${table === 'registered_models' ? 'id' : 'model_id'} = ${params(1)[0]}`,
          [model],
        );
        result[table] = Number(row.n);
      }
      return result;
    };
    const all = { registered_models: 1, model_versions: 1, model_aliases: 1, model_events: 1 };

    const upgraded = await open(MIGRATIONS);
    expect(await counts(upgraded)).toEqual(all);
    // Down to before Monitoring (later migrations are undone first).
    for (let i = MIGRATIONS.length; i > before; i--) await upgraded.undoLastMigration();
    expect(await counts(upgraded)).toEqual(all);
    await upgraded.destroy();
  });
});
