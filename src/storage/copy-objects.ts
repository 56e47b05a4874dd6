import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import {
  AppConfig,
  ConfigError,
  loadAppConfig,
  OBJECT_STORE_KINDS,
  type ObjectStoreConfig,
} from '../config/app.config';
import { buildDataSourceOptions } from '../database/data-source-options';
import type { ObjectStorage, StoredObject } from './object-storage';
import { createObjectStorage } from './storage.module';

/**
 * A target copy written at least this long after the source's last write is taken as a copy of
 * that write and skipped; anything closer is copied again. Covers clocks (this host, the database,
 * the S3 server) that disagree by less.
 */
export const CLOCK_MARGIN_MS = 5 * 60 * 1000;

export interface CopyOptions {
  /** Copy every object, even those the target already has. */
  all?: boolean;
  /** Once every object is in the target with its size, delete it from the source. */
  move?: boolean;
  /** A progress line now and then (and the last one). */
  report?: (line: string) => void;
  /** How often `report` is called at most. */
  reportEveryMs?: number;
}

export interface CopyOutcome {
  total: number;
  copied: number;
  skipped: number;
  bytes: number;
  deleted: number;
  /** Keys not in the target, or not at their size, after the copy. */
  missing: string[];
}

/**
 * Copies every object of `source` into `target`, one at a time. Run it again and it copies only
 * what the target lacks or what changed in the source since it was copied, so a first pass can
 * run while the service writes, and a second one, with the service stopped, catches up.
 */
export async function copyObjects(
  source: ObjectStorage,
  target: ObjectStorage,
  options: CopyOptions = {},
): Promise<CopyOutcome> {
  const report = options.report ?? (() => undefined);
  const inTarget = await listed(target);
  const objects: StoredObject[] = [];
  for await (const object of source.objects()) objects.push(object);
  objects.sort((a, b) => (a.key < b.key ? -1 : 1));
  const totalBytes = objects.reduce((sum, object) => sum + object.size, 0);
  const outcome: CopyOutcome = {
    total: objects.length,
    copied: 0,
    skipped: 0,
    bytes: 0,
    deleted: 0,
    missing: [],
  };
  const progress = () =>
    `${outcome.copied + outcome.skipped}/${outcome.total} objects ` +
    `(${outcome.copied} copied, ${outcome.skipped} already there), ` +
    `${formatBytes(outcome.bytes)} of ${formatBytes(totalBytes)} copied`;
  let reportedAt = Date.now();

  const scratch = source.localFile ? await mkdtemp(path.join(tmpdir(), 'modeldock-copy-')) : null;
  try {
    for (const object of objects) {
      const there = inTarget.get(object.key);
      if (!options.all && there && there.modifiedMs >= object.modifiedMs + CLOCK_MARGIN_MS) {
        outcome.skipped++;
      } else {
        await copyOne(source, target, object.key, scratch);
        outcome.copied++;
        outcome.bytes += object.size;
      }
      if (Date.now() - reportedAt >= (options.reportEveryMs ?? 1000)) {
        report(progress());
        reportedAt = Date.now();
      }
    }
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  report(progress());

  const copies = await listed(target);
  outcome.missing = objects
    .filter((object) => copies.get(object.key)?.size !== object.size)
    .map((object) => object.key);
  if (options.move && outcome.missing.length === 0) {
    for (const object of objects) {
      await source.delete(object.key);
      outcome.deleted++;
    }
  }
  return outcome;
}

async function listed(storage: ObjectStorage): Promise<Map<string, StoredObject>> {
  const found = new Map<string, StoredObject>();
  for await (const object of storage.objects()) found.set(object.key, object);
  return found;
}

/** A file source lends a copy of its file (the target's putFile takes what it is given). */
async function copyOne(
  source: ObjectStorage,
  target: ObjectStorage,
  key: string,
  scratch: string | null,
): Promise<void> {
  if (source.localFile && scratch) {
    const lent = path.join(scratch, 'object');
    try {
      await copyFile(source.localFile(key), lent);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // deleted since listed
      throw error;
    }
    await target.putFile(key, lent);
    return;
  }
  const content = await source.get(key);
  if (content) await target.put(key, content);
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const USAGE = `usage: npm run objects:copy -- --to <${OBJECT_STORE_KINDS.join('|')}> [--from <kind>] [--all] [--move]

Copies every dataset, artifact and reference sample from one object store into another. Both are
configured from the environment as the service is (DATA_DIR, DATABASE_URL, S3_*); --from defaults
to the store OBJECT_STORE names now. Safe to run again: it copies only what the target lacks or
what changed since. --all copies everything; --move deletes from the source once every object is
in the target. Exits 1 when an object did not arrive.`;

interface CommandLine {
  from: ObjectStoreConfig['kind'] | undefined;
  to: ObjectStoreConfig['kind'];
  all: boolean;
  move: boolean;
}

function parseArguments(args: string[]): CommandLine {
  const kind = (flag: string, value: string | undefined) => {
    if (!OBJECT_STORE_KINDS.includes(value as ObjectStoreConfig['kind'])) {
      throw new ConfigError(
        `${flag} must be one of ${OBJECT_STORE_KINDS.join(', ')}; got "${value ?? ''}".\n\n${USAGE}`,
      );
    }
    return value as ObjectStoreConfig['kind'];
  };
  let from: ObjectStoreConfig['kind'] | undefined;
  let to: ObjectStoreConfig['kind'] | undefined;
  let all = false;
  let move = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--from') from = kind('--from', args[++i]);
    else if (arg === '--to') to = kind('--to', args[++i]);
    else if (arg === '--all') all = true;
    else if (arg === '--move') move = true;
    else throw new ConfigError(`unknown argument "${arg}".\n\n${USAGE}`);
  }
  if (!to) throw new ConfigError(`--to is required.\n\n${USAGE}`);
  return { from, to, all, move };
}

/** Where a store is, for the first line (no credentials: URLs are redacted by config). */
function whereIs(config: AppConfig): string {
  const store = config.objectStore;
  if (store.kind === 'file') return `file store at ${store.root}`;
  if (store.kind === 'database') {
    const database = config.database;
    return `stored_objects in ${database.type === 'sqlite' ? database.path : 'PostgreSQL'}`;
  }
  return `s3://${store.bucket}/${store.prefix}${store.endpoint ? ` at ${store.endpoint}` : ''}`;
}

export async function main(args: string[], env: Record<string, string | undefined>) {
  const line = parseArguments(args);
  const from = loadAppConfig(line.from ? { ...env, OBJECT_STORE: line.from } : env);
  const to = loadAppConfig({ ...env, OBJECT_STORE: line.to });
  if (from.objectStore.kind === to.objectStore.kind) {
    throw new ConfigError(`nothing to do: the source and the target are both ${line.to}.`);
  }
  // Only to reach stored_objects: no migration runs and no object moves on opening it.
  const needsDatabase = [from, to].some((config) => config.objectStore.kind === 'database');
  const dataSource = needsDatabase
    ? await new DataSource({
        ...buildDataSourceOptions({ database: from.database }),
        migrationsRun: false,
      }).initialize()
    : (null as unknown as DataSource);
  if (dataSource && (await dataSource.showMigrations())) {
    await dataSource.destroy();
    // ObjectsAsFiles moves objects when it runs: let it run under the service's own OBJECT_STORE.
    throw new ConfigError(
      'the database has migrations not yet applied: start the service once (or run ' +
        '`npm run migration:run`) with its current OBJECT_STORE, then copy.',
    );
  }
  const source = createObjectStorage(from.objectStore, dataSource);
  const target = createObjectStorage(to.objectStore, dataSource);
  try {
    process.stdout.write(`objects:copy: from ${whereIs(from)} to ${whereIs(to)}\n`);
    const outcome = await copyObjects(source, target, {
      all: line.all,
      move: line.move,
      report: (text) => process.stdout.write(`objects:copy: ${text}\n`),
    });
    if (outcome.missing.length > 0) {
      process.stdout.write(
        `objects:copy: ${outcome.missing.length} object(s) are not in the target at their size: ` +
          `${outcome.missing.slice(0, 20).join(', ')}; run again\n`,
      );
      return 1;
    }
    if (line.move) {
      process.stdout.write(`objects:copy: deleted ${outcome.deleted} object(s) from the source\n`);
    }
    return 0;
  } finally {
    for (const storage of [source, target]) {
      (storage as Partial<{ onApplicationShutdown(): void }>).onApplicationShutdown?.();
    }
    if (dataSource) await dataSource.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // A store's failure for clients keeps what names the bucket in its cause.
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      process.stderr.write(
        `objects:copy: ${cause instanceof Error ? cause.message : String(cause)}\n`,
      );
      process.exit(error instanceof ConfigError ? 2 : 1);
    },
  );
}
