import * as path from 'node:path';
import { ConfigError, loadAppConfig } from './app.config';

describe('OBJECT_STORE', () => {
  it('keeps objects as files under DATA_DIR/objects by default on SQLite', () => {
    expect(loadAppConfig({ DATA_DIR: '/tmp/md' }).objectStore).toEqual({
      kind: 'file',
      root: path.join('/tmp/md', 'objects'),
    });
  });

  it('keeps them in the database by default on PostgreSQL, whose replicas share no disk', () => {
    const config = loadAppConfig({ DATABASE_URL: 'postgres://u:p@db:5432/md' });
    expect(config.objectStore).toEqual({ kind: 'database' });
  });

  it('takes either kind on either database', () => {
    expect(loadAppConfig({ OBJECT_STORE: 'database' }).objectStore).toEqual({ kind: 'database' });
    expect(
      loadAppConfig({
        DATA_DIR: '/srv/md',
        DATABASE_URL: 'postgres://u:p@db:5432/md',
        OBJECT_STORE: ' file ',
      }).objectStore,
    ).toEqual({ kind: 'file', root: path.join('/srv/md', 'objects') });
  });

  it('refuses an unknown kind, naming the variable and the kinds it takes', () => {
    expect(() => loadAppConfig({ OBJECT_STORE: 'gcs' })).toThrow(ConfigError);
    expect(() => loadAppConfig({ OBJECT_STORE: 'gcs' })).toThrow(
      'OBJECT_STORE must be one of file, database, s3; got "gcs".',
    );
  });
});

describe('OBJECT_STORE=s3', () => {
  const s3 = (env: Record<string, string>) =>
    loadAppConfig({ OBJECT_STORE: 's3', S3_BUCKET: 'modeldock-objects', ...env }).objectStore;
  const refused = (env: Record<string, string>) => {
    try {
      loadAppConfig({ OBJECT_STORE: 's3', ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the configuration was accepted');
  };

  it('takes AWS S3 in us-east-1, virtual-hosted style and no prefix, given only a bucket', () => {
    expect(s3({})).toEqual({
      kind: 's3',
      bucket: 'modeldock-objects',
      endpoint: undefined,
      region: 'us-east-1',
      prefix: '',
      forcePathStyle: false,
    });
  });

  it('takes the region from S3_REGION, else from AWS_REGION as the SDK and IRSA set it', () => {
    expect(s3({ AWS_REGION: 'eu-west-1' })).toMatchObject({ region: 'eu-west-1' });
    expect(s3({ AWS_REGION: 'eu-west-1', S3_REGION: 'ap-south-1' })).toMatchObject({
      region: 'ap-south-1',
    });
  });

  it('uses path style by default with an endpoint of its own (MinIO, Ceph), unless told not to', () => {
    expect(s3({ S3_ENDPOINT: 'http://minio:9000/' })).toMatchObject({
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
    });
    expect(
      s3({ S3_ENDPOINT: 'https://s3.example.com', S3_FORCE_PATH_STYLE: 'false' }),
    ).toMatchObject({ forcePathStyle: false });
    expect(s3({ S3_FORCE_PATH_STYLE: 'true' })).toMatchObject({ forcePathStyle: true });
  });

  it('keeps keys under S3_PREFIX, with or without its slashes', () => {
    expect(s3({ S3_PREFIX: 'modeldock/prod' })).toMatchObject({ prefix: 'modeldock/prod/' });
    expect(s3({ S3_PREFIX: '/modeldock/prod/' })).toMatchObject({ prefix: 'modeldock/prod/' });
    expect(s3({ S3_PREFIX: ' ' })).toMatchObject({ prefix: '' });
  });

  it('refuses to start without a bucket, saying which variable to set', () => {
    expect(refused({})).toBe(
      'S3_BUCKET must name the bucket when OBJECT_STORE is s3 (e.g. S3_BUCKET=modeldock-objects).',
    );
  });

  it.each([
    [
      { S3_BUCKET: 's3://modeldock-objects' },
      /^S3_BUCKET must be a bucket name .*got "s3:\/\/modeldock-objects"/,
    ],
    [{ S3_BUCKET: 'bucket/prefix' }, /S3_PREFIX/],
    [
      { S3_ENDPOINT: 'minio:9000' },
      /^S3_ENDPOINT must be the server's URL, like http:\/\/minio:9000/,
    ],
    [{ S3_ENDPOINT: 'ftp://minio' }, /^S3_ENDPOINT must be the server's URL/],
    [{ S3_REGION: 'eu west' }, /^S3_REGION must be a region name like eu-west-1; got "eu west"/],
    [{ S3_PREFIX: 'a//b' }, /^S3_PREFIX must be up to 200 characters/],
    [{ S3_PREFIX: '../up' }, /^S3_PREFIX must be/],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, /^S3_FORCE_PATH_STYLE must be true or false; got "maybe"/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(refused({ S3_BUCKET: 'modeldock-objects', ...env })).toMatch(message);
  });

  it('refuses credentials in S3_ENDPOINT without repeating them', () => {
    const message = refused({
      S3_BUCKET: 'modeldock-objects',
      S3_ENDPOINT: 'http://admin:hunter2hunter2@minio:9000',
    });
    expect(message).toMatch(/^S3_ENDPOINT must not hold credentials .*AWS_ACCESS_KEY_ID/);
    expect(message).not.toContain('hunter2');
  });
});
