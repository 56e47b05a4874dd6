import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS, migrationsFor } from '../migrations';
import { DatabaseConfig, ObjectStoreConfig } from '../src/config/app.config';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { DatabaseObjectStorage } from '../src/storage/database-object-storage';
import { FileObjectStorage } from '../src/storage/file-object-storage';
import { makeDataDir, removeDataDir } from './support/test-app';
import { prepareDatabase } from './support/test-database';

/**
 * Upgrading an installation whose objects are rows of `stored_objects`: ObjectsAsFiles moves each
 * to its file under DATA_DIR/objects byte for byte when the file store is configured, and `down`
 * puts every byte back (on SQLite, and on PostgreSQL in the e2e-postgres project). With the
 * database store it changes nothing.
 */
const BEFORE = MIGRATIONS.findIndex((m) => m.name === 'ObjectsAsFiles1764800000000');

const OBJECTS: Record<string, Buffer> = {
  'datasets/11111111-1111-4111-8111-111111111111': Buffer.from([0, 1, 2, 250, 255, 0, 42]),
  'datasets/66666666-6666-4666-8666-666666666666': randomBytes(3 * 1024 * 1024 + 5),
  'artifacts/33333333-3333-4333-8333-333333333333': Buffer.from(
    JSON.stringify({ format: 'modeldock/v2', note: 'ünïcødé ✓' }),
  ),
  'references/33333333-3333-4333-8333-333333333333': Buffer.alloc(0),
};
const CREATED_AT = new Date('2025-06-01T12:34:56.000Z');

describe('moving stored objects to files (ObjectsAsFiles)', () => {
  let dataDir: string;
  let database: DatabaseConfig;
  let root: string;

  const open = async (migrations: typeof MIGRATIONS) =>
    new DataSource({ ...buildDataSourceOptions({ database }), migrations }).initialize();
  const rows = async (source: DataSource) => {
    const found: Record<string, Buffer> = {};
    for (const { object_key: key, content } of await source.query(
      'SELECT object_key, content FROM stored_objects',
    )) {
      found[key] = Buffer.from(content);
    }
    return found;
  };
  const seed = async () => {
    const old = await open(MIGRATIONS.slice(0, BEFORE));
    const storage = new DatabaseObjectStorage(old);
    for (const [key, content] of Object.entries(OBJECTS)) await storage.put(key, content);
    await old.query(`UPDATE stored_objects SET created_at = ${param()}`, [
      CREATED_AT.toISOString(),
    ]);
    return old;
  };
  const param = () => (database.type === 'postgres' ? '$1' : '?');

  beforeEach(async () => {
    dataDir = makeDataDir();
    database = await prepareDatabase(dataDir);
    root = path.join(dataDir, 'objects');
  });

  afterEach(() => removeDataDir(dataDir));

  it('moves every object to its file byte for byte, and back on down', async () => {
    await (await seed()).destroy();
    const store: ObjectStoreConfig = { kind: 'file', root };

    const upgraded = await open(migrationsFor(store));
    const files = new FileObjectStorage(root);
    for (const [key, content] of Object.entries(OBJECTS)) {
      expect(readFileSync(files.pathOf(key)).equals(content)).toBe(true);
      expect(statSync(files.pathOf(key)).mtime).toEqual(CREATED_AT);
    }
    expect((await files.list()).objects).toHaveLength(Object.keys(OBJECTS).length);
    expect(await rows(upgraded)).toEqual({});

    await upgraded.undoLastMigration();
    const restored = await rows(upgraded);
    expect(Object.keys(restored).sort()).toEqual(Object.keys(OBJECTS).sort());
    for (const [key, content] of Object.entries(OBJECTS)) {
      expect(restored[key].equals(content)).toBe(true);
    }
    const [{ size }] = await upgraded.query(
      `SELECT size_bytes AS size FROM stored_objects WHERE object_key = ${param()}`,
      ['datasets/66666666-6666-4666-8666-666666666666'],
    );
    expect(Number(size)).toBe(3 * 1024 * 1024 + 5);

    // And up again: the files are written over with the same bytes, the rows go.
    await upgraded.runMigrations();
    for (const [key, content] of Object.entries(OBJECTS)) {
      expect((await files.get(key))?.equals(content)).toBe(true);
    }
    expect(await rows(upgraded)).toEqual({});
    await upgraded.destroy();
  });

  it('leaves objects in the database when the database store is configured', async () => {
    await (await seed()).destroy();
    const upgraded = await open(migrationsFor({ kind: 'database' }));
    const kept = await rows(upgraded);
    for (const [key, content] of Object.entries(OBJECTS))
      expect(kept[key].equals(content)).toBe(true);
    expect(existsSync(root)).toBe(false);
    await upgraded.undoLastMigration();
    expect(Object.keys(await rows(upgraded)).sort()).toEqual(Object.keys(OBJECTS).sort());
    await upgraded.destroy();
  });
});
