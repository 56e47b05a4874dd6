import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { S3RVER_CREDENTIALS, S3Server, startS3Server } from '../../test/support/s3-server';
import type { S3StoreConfig } from '../config/app.config';
import { DependencyUnavailableError } from '../common/errors';
import { InvalidObjectKeyError } from './object-storage';
import { S3ObjectStorage } from './s3-object-storage';

const BUCKET = 'modeldock-test';
const KEY = 'datasets/0b6f2c1e-7a43-4f0a-9d1e-2b7c5a9e8f10';
const MiB = 1024 * 1024;

describe('S3ObjectStorage (against s3rver, an S3 protocol server)', () => {
  let server: S3Server;
  let scratch: string;
  const made: S3ObjectStorage[] = [];

  const settings = (overrides: Partial<S3StoreConfig> = {}): S3StoreConfig => ({
    bucket: BUCKET,
    endpoint: server.endpoint,
    region: 'us-east-1',
    prefix: '',
    forcePathStyle: true,
    ...overrides,
  });
  const storage = (overrides: Partial<S3StoreConfig> = {}, credentials = S3RVER_CREDENTIALS) => {
    const created = new S3ObjectStorage(settings(overrides), credentials);
    made.push(created);
    return created;
  };
  /** Every key in the bucket, as S3 itself lists them. */
  const bucketKeys = async () => {
    const client = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      return (listed.Contents ?? []).map((object) => object.Key).sort();
    } finally {
      client.destroy();
    }
  };
  const localFile = (content: Buffer) => {
    const file = path.join(scratch, `upload-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, content);
    return file;
  };

  beforeEach(async () => {
    server = await startS3Server([BUCKET]);
    scratch = mkdtempSync(path.join(tmpdir(), 'modeldock-s3-spec-'));
  });

  afterEach(async () => {
    for (const created of made.splice(0)) created.onApplicationShutdown();
    await server.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('gives back exactly the bytes put under a key, an empty object included', async () => {
    const store = storage();
    const content = Buffer.from([0, 1, 2, 250, 255, 0, 42, 13, 10]);
    await store.put(KEY, content);
    await store.put('references/empty', Buffer.alloc(0));
    expect(await store.get(KEY)).toEqual(content);
    expect(await store.get('references/empty')).toEqual(Buffer.alloc(0));
  });

  it('stores a 3 MiB buffer and a 40 MiB file (a multipart upload) byte for byte, and takes the file', async () => {
    const store = storage();
    const small = randomBytes(3 * MiB + 5);
    await store.put('artifacts/v1', small);
    const large = randomBytes(40 * MiB + 3);
    const source = localFile(large);
    await store.putFile(KEY, source);
    expect(existsSync(source)).toBe(false);
    expect((await store.get('artifacts/v1'))?.equals(small)).toBe(true);
    expect((await store.get(KEY))?.equals(large)).toBe(true);
  }, 60_000);

  it('replaces an object on a second put or putFile', async () => {
    const store = storage();
    await store.put(KEY, Buffer.from('old'));
    await store.putFile(KEY, localFile(Buffer.from('from a file')));
    expect((await store.get(KEY))?.toString()).toBe('from a file');
    await store.put(KEY, Buffer.from('new'));
    expect((await store.get(KEY))?.toString()).toBe('new');
    expect(await bucketKeys()).toEqual([KEY]);
  });

  it('answers null for a key never stored, and deletes, a missing key being no error', async () => {
    const store = storage();
    expect(await store.get(KEY)).toBeNull();
    await store.put(KEY, Buffer.from('x'));
    await store.delete(KEY);
    expect(await store.get(KEY)).toBeNull();
    await expect(store.delete(KEY)).resolves.toBeUndefined();
    await expect(store.delete('never/stored')).resolves.toBeUndefined();
  });

  it('keeps every key under S3_PREFIX, and a store sees only its own prefix', async () => {
    const team = storage({ prefix: 'team-a/modeldock/' });
    const other = storage({ prefix: 'team-b/' });
    await team.put(KEY, Buffer.from('a'));
    await team.put('artifacts/v1', Buffer.from('artifact'));
    await other.put(KEY, Buffer.from('b'));
    expect(await bucketKeys()).toEqual([
      'team-a/modeldock/artifacts/v1',
      `team-a/modeldock/${KEY}`,
      `team-b/${KEY}`,
    ]);
    expect((await team.get(KEY))?.toString()).toBe('a');
    expect((await other.get(KEY))?.toString()).toBe('b');
    expect(await other.get('artifacts/v1')).toBeNull();

    const listed = [];
    for await (const object of team.objects()) listed.push(object);
    listed.sort((a, b) => a.key.localeCompare(b.key));
    expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([
      { key: 'artifacts/v1', size: 8 },
      { key: KEY, size: 1 },
    ]);
    expect(Math.abs(listed[0].modifiedMs - Date.now())).toBeLessThan(60_000);
  });

  it('refuses a key that is not ours before sending anything', async () => {
    const store = storage();
    for (const key of ['', '../x', 'datasets//x', '/abs', '.hidden']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(InvalidObjectKeyError);
      await expect(store.get(key)).rejects.toThrow(InvalidObjectKeyError);
    }
    expect(await bucketKeys()).toEqual([]);
  });

  it('says, naming the bucket, that it does not exist: on every call and in the readiness probe', async () => {
    const store = storage({ bucket: 'no-such-bucket' });
    const message = /no-such-bucket.*NoSuchBucket: the bucket does not exist/;
    // A request gets a 503 that does not name the bucket; its cause, which is logged, does.
    const failed = async (call: Promise<unknown>) => {
      const error = await call.then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect((error as DependencyUnavailableError).status).toBe(503);
      expect((error as Error).message).not.toContain('no-such-bucket');
      expect(((error as Error).cause as Error).message).toMatch(message);
    };
    await failed(store.put(KEY, Buffer.from('x')));
    await failed(store.putFile(KEY, localFile(Buffer.from('x'))));
    // Not null: a missing bucket is not a missing object.
    await failed(store.get(KEY));
    await failed(store.delete(KEY));
    await expect(store.probe()).rejects.toThrow(message);
    await expect(storage().probe()).resolves.toBeUndefined();
  });

  it('says when the credentials are refused, without repeating the secret', async () => {
    const store = storage({}, { accessKeyId: 'UNKNOWNKEY', secretAccessKey: 'very-secret-value' });
    const failure = await store.put(KEY, Buffer.from('x')).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    const cause = (failure as Error).cause as Error;
    expect(cause.message).toMatch(/InvalidAccessKeyId: the server does not know the access key/);
    expect(cause.message).not.toContain('very-secret-value');
    expect((failure as Error).message).not.toContain('very-secret-value');
  });

  it('says which server it could not reach', async () => {
    const endpoint = server.endpoint;
    await server.close();
    server = await startS3Server([]); // for afterEach; the store points at the closed port
    const store = storage({ endpoint });
    await expect(store.probe()).rejects.toThrow(
      new RegExp(`S3 error listing s3://${BUCKET}/ at ${endpoint}: .*ECONNREFUSED`),
    );
  });
});
