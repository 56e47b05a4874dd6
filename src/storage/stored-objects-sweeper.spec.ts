import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig, loadAppConfig } from '../config/app.config';
import { DatabaseObjectStorage } from './database-object-storage';
import { FileObjectStorage } from './file-object-storage';
import type { ObjectStorage, StoredObject } from './object-storage';
import { SHARED_STORE_GRACE_MS, StoredObjectsSweeper } from './stored-objects-sweeper';

describe('StoredObjectsSweeper (start-up cleanup of the file store)', () => {
  let dataDir: string;
  let storage: FileObjectStorage;
  let logged: string[];

  const embedded = () => loadAppConfig({ DATA_DIR: dataDir });
  const age = (key: string, ms: number) => {
    const when = new Date(Date.now() - ms);
    utimesSync(storage.pathOf(key), when, when);
  };
  const keys = async () => (await storage.list()).objects.map((entry) => entry.key).sort();
  const sweeper = (config: AppConfig, referenced: Record<string, string[]>) => {
    const created = new StoredObjectsSweeper(storage, config);
    for (const [prefix, live] of Object.entries(referenced)) {
      created.claim(prefix, () => Promise.resolve(live));
    }
    return created;
  };

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-sweep-'));
    storage = new FileObjectStorage(path.join(dataDir, 'objects'));
    logged = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('removes objects no row refers to, of every claimed kind, and says which in one line', async () => {
    for (const key of [
      'datasets/kept',
      'datasets/orphan',
      'artifacts/v1',
      'artifacts/v2',
      'references/v2',
    ]) {
      await storage.put(key, Buffer.from(key));
      age(key, 1000);
    }
    await sweeper(embedded(), {
      datasets: ['datasets/kept'],
      artifacts: ['artifacts/v1'],
      references: ['references/v1'],
    }).onModuleInit();
    expect(await keys()).toEqual(['artifacts/v1', 'datasets/kept']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/removed 0 temporary file\(s\).* and 3 object\(s\) no row refers to/);
    for (const key of ['datasets/orphan', 'artifacts/v2', 'references/v2']) {
      expect(logged[0]).toContain(key);
    }
  });

  it('keeps files under a prefix no module claimed', async () => {
    await storage.put('exports/x', Buffer.from('x'));
    age('exports/x', 1000);
    await sweeper(embedded(), { datasets: [] }).onModuleInit();
    expect(await keys()).toEqual(['exports/x']);
    expect(logged).toEqual([]);
  });

  it('leaves alone what was written after the sweep began', async () => {
    await storage.put('datasets/new', Buffer.from('x'));
    age('datasets/new', -60_000);
    writeFileSync(path.join(dataDir, 'objects', 'datasets', '.new.1234.tmp'), 'partial');
    const future = new Date(Date.now() + 60_000);
    utimesSync(path.join(dataDir, 'objects', 'datasets', '.new.1234.tmp'), future, future);
    await sweeper(embedded(), { datasets: [] }).onModuleInit();
    expect(await keys()).toEqual(['datasets/new']);
    expect((await storage.list()).temporary).toHaveLength(1);
  });

  it('gives writes of other processes an hour when the directory may be shared (Redis, PostgreSQL)', async () => {
    for (const [key, ageMs] of [
      ['datasets/recent', 60_000],
      ['datasets/old', SHARED_STORE_GRACE_MS + 60_000],
    ] as const) {
      await storage.put(key, Buffer.from(key));
      age(key, ageMs);
    }
    const shared = loadAppConfig({ DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:6379' });
    await sweeper(shared, { datasets: [] }).onModuleInit();
    expect(await keys()).toEqual(['datasets/recent']);
  });

  it('sweeps no files at module init when objects are kept in the database (that store is swept after start-up)', async () => {
    await storage.put('datasets/orphan', Buffer.from('x'));
    age('datasets/orphan', 1000);
    const database = new DatabaseObjectStorage({ options: { type: 'sqlite' } } as never);
    const config = loadAppConfig({ DATA_DIR: dataDir, OBJECT_STORE: 'database' });
    const created = new StoredObjectsSweeper(database, config);
    created.claim('datasets', () => Promise.resolve([]));
    await created.onModuleInit();
    expect(await keys()).toEqual(['datasets/orphan']);
  });
});

describe('StoredObjectsSweeper (a store other processes share: database rows, a bucket)', () => {
  /** A store of keys and write times, as a bucket lists them. */
  class SharedStore implements ObjectStorage {
    readonly written = new Map<string, number>();
    put = (key: string) => Promise.resolve(void this.written.set(key, Date.now()));
    putFile = (key: string) => this.put(key);
    get = () => Promise.resolve(null);
    delete = (key: string) => Promise.resolve(void this.written.delete(key));
    async *objects(): AsyncIterable<StoredObject> {
      for (const [key, modifiedMs] of this.written) yield { key, size: 1, modifiedMs };
    }
  }

  it('removes, in the background after start-up, only orphans older than the grace period', async () => {
    const store = new SharedStore();
    const now = Date.now();
    store.written.set('datasets/live', now - 2 * SHARED_STORE_GRACE_MS);
    store.written.set('datasets/orphan', now - 2 * SHARED_STORE_GRACE_MS);
    store.written.set('datasets/in-flight', now - 60_000);
    store.written.set('exports/unclaimed', now - 2 * SHARED_STORE_GRACE_MS);
    const config = loadAppConfig({ OBJECT_STORE: 'database' });
    const sweeper = new StoredObjectsSweeper(store, config);
    sweeper.claim('datasets', () => Promise.resolve(['datasets/live']));
    await sweeper.onModuleInit();
    expect(store.written.size).toBe(4);
    sweeper.onApplicationBootstrap();
    await sweeper.settled();
    expect([...store.written.keys()].sort()).toEqual([
      'datasets/in-flight',
      'datasets/live',
      'exports/unclaimed',
    ]);
  });

  it('stops at shutdown and logs a failed sweep as a warning, not a crash', async () => {
    const warned: string[] = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warned.push(String(message));
    });
    const store = new SharedStore();
    store.objects = async function* () {
      yield* [];
      throw new Error('bucket unreachable');
    };
    const sweeper = new StoredObjectsSweeper(store, loadAppConfig({ OBJECT_STORE: 'database' }));
    sweeper.onApplicationBootstrap();
    await sweeper.settled();
    expect(warned).toEqual([expect.stringMatching(/sweep failed.*bucket unreachable/)]);
    await sweeper.onApplicationShutdown();
    jest.restoreAllMocks();
  });
});
