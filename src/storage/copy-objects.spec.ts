import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { S3RVER_CREDENTIALS, S3Server, startS3Server } from '../../test/support/s3-server';
import { buildDataSourceOptions } from '../database/data-source-options';
import { copyObjects } from './copy-objects';
import { DatabaseObjectStorage } from './database-object-storage';
import { FileObjectStorage } from './file-object-storage';
import type { ObjectStorage } from './object-storage';
import { S3ObjectStorage } from './s3-object-storage';

const BUCKET = 'modeldock-copy';
const MiB = 1024 * 1024;
const OBJECTS: Record<string, Buffer> = {
  'datasets/11111111-1111-4111-8111-111111111111': Buffer.from([0, 1, 2, 250, 255, 0, 42]),
  'datasets/66666666-6666-4666-8666-666666666666': randomBytes(20 * MiB + 5),
  'artifacts/33333333-3333-4333-8333-333333333333': Buffer.from('{"format":"modeldock/v2"}'),
  'references/33333333-3333-4333-8333-333333333333': Buffer.alloc(0),
};
const digest = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const DIGESTS = Object.fromEntries(
  Object.entries(OBJECTS).map(([key, content]) => [key, digest(content)]),
);
const HOUR_AGO = new Date(Date.now() - 60 * 60 * 1000);

describe('copying objects between stores (npm run objects:copy)', () => {
  let server: S3Server;
  let dataDir: string;
  let files: FileObjectStorage;
  let bucket: S3ObjectStorage;

  /** Each key's sha256 (jest's toEqual walks a Buffer index by index: too slow for 20 MiB). */
  const contents = async (storage: ObjectStorage) => {
    const found: Record<string, string | null> = {};
    for await (const { key } of storage.objects()) {
      const content = await storage.get(key);
      found[key] = content && digest(content);
    }
    return found;
  };
  /** Objects written an hour ago, as an installation's are. */
  const seedFiles = async () => {
    for (const [key, content] of Object.entries(OBJECTS)) {
      await files.put(key, content);
      utimesSync(files.pathOf(key), HOUR_AGO, HOUR_AGO);
    }
  };

  beforeEach(async () => {
    server = await startS3Server([BUCKET]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-copy-'));
    files = new FileObjectStorage(path.join(dataDir, 'objects'));
    bucket = new S3ObjectStorage(
      {
        bucket: BUCKET,
        endpoint: server.endpoint,
        region: 'us-east-1',
        prefix: 'md/',
        forcePathStyle: true,
      },
      S3RVER_CREDENTIALS,
    );
  });

  afterEach(async () => {
    bucket.onApplicationShutdown();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('copies every file into the bucket byte for byte, leaving the files, and says how far it got', async () => {
    await seedFiles();
    const lines: string[] = [];
    const outcome = await copyObjects(files, bucket, { report: (line) => lines.push(line) });
    expect(outcome).toMatchObject({ total: 4, copied: 4, skipped: 0, missing: [], deleted: 0 });
    expect(await contents(bucket)).toEqual(DIGESTS);
    expect(await contents(files)).toEqual(DIGESTS);
    expect(lines.at(-1)).toBe(
      '4/4 objects (4 copied, 0 already there), 20.0 MiB of 20.0 MiB copied',
    );
  }, 60_000);

  it('copies again only what the target lacks or what changed in the source since', async () => {
    await seedFiles();
    await copyObjects(files, bucket);
    const replaced = 'references/33333333-3333-4333-8333-333333333333';
    await files.put(replaced, Buffer.from('a new reference'));
    await files.put('datasets/77777777-7777-4777-8777-777777777777', Buffer.from('new'));

    const again = await copyObjects(files, bucket);
    expect(again).toMatchObject({ total: 5, copied: 2, skipped: 3, missing: [] });
    expect((await bucket.get(replaced))?.toString()).toBe('a new reference');
    expect(await copyObjects(files, bucket, { all: true })).toMatchObject({ copied: 5 });
  }, 60_000);

  it('moves rows of stored_objects into the bucket and back, byte for byte, with --move', async () => {
    const dataSource = await new DataSource(
      buildDataSourceOptions({
        database: { type: 'sqlite', path: path.join(dataDir, 'modeldock.sqlite') },
      }),
    ).initialize();
    try {
      const rows = new DatabaseObjectStorage(dataSource);
      for (const [key, content] of Object.entries(OBJECTS)) await rows.put(key, content);
      // Row times read as UTC epoch milliseconds, whatever the driver makes of a timestamp.
      for await (const { modifiedMs } of rows.objects()) {
        expect(Math.abs(modifiedMs - Date.now())).toBeLessThan(60_000);
      }

      expect(await copyObjects(rows, bucket, { move: true })).toMatchObject({
        copied: 4,
        deleted: 4,
      });
      expect(await contents(bucket)).toEqual(DIGESTS);
      expect(await contents(rows)).toEqual({});

      expect(await copyObjects(bucket, rows, { move: true })).toMatchObject({ copied: 4 });
      expect(await contents(rows)).toEqual(DIGESTS);
      expect(await contents(bucket)).toEqual({});
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);

  it('runs from the command line with the service’s settings, and is safe to run twice', async () => {
    await seedFiles();
    const run = () =>
      promisify(execFile)(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', 'src/storage/copy-objects.ts', '--to', 's3'],
        {
          cwd: path.resolve(__dirname, '../..'),
          env: {
            ...process.env,
            DATA_DIR: dataDir,
            OBJECT_STORE: 'file',
            S3_BUCKET: BUCKET,
            S3_ENDPOINT: server.endpoint,
            S3_PREFIX: 'md',
            AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          },
        },
      );
    const first = await run();
    // A progress line each second in between, as many as the machine's speed makes.
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `objects:copy: from file store at ${path.join(dataDir, 'objects')} to s3://${BUCKET}/md/ at ${server.endpoint}`,
    );
    expect(lines.at(-1)).toBe(
      'objects:copy: 4/4 objects (4 copied, 0 already there), 20.0 MiB of 20.0 MiB copied',
    );
    for (const line of lines.slice(1, -1)) {
      expect(line).toMatch(/^objects:copy: [0-3]\/4 objects \(\d copied, 0 already there\)/);
    }
    expect(await contents(bucket)).toEqual(DIGESTS);
    const second = await run();
    expect(second.stdout).toContain('4/4 objects (0 copied, 4 already there), 0 B of 20.0 MiB');

    const refused = await promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/storage/copy-objects.ts', '--to', 'gcs'],
      { cwd: path.resolve(__dirname, '../..') },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toMatch(
      /^objects:copy: --to must be one of file, database, s3; got "gcs"\.\n\nusage: npm run objects:copy/,
    );
  }, 60_000);
});
