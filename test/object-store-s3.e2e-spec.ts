import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { lineDataset } from './support/fixtures';
import { S3RVER_CREDENTIALS, S3Server, startS3Server } from './support/s3-server';
import { spawnService } from './support/service-process';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const BUCKET = 'modeldock-e2e';
const PREFIX = 'team-a/modeldock/';

/**
 * OBJECT_STORE=s3 against s3rver, an S3 protocol server in this process: datasets, artifacts and
 * reference samples land in the bucket under S3_PREFIX and nowhere on disk, training reads its
 * dataset from there, a restarted service serves from there, and the bucket is part of readiness.
 * On SQLite here and on PostgreSQL in the e2e-postgres project.
 */
describe('objects in an S3 bucket (OBJECT_STORE=s3)', () => {
  let server: S3Server;
  let client: S3Client;
  const savedEnv: Record<string, string | undefined> = {};
  const s3Env = (overrides: Record<string, string> = {}) => ({
    OBJECT_STORE: 's3',
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: server.endpoint,
    S3_PREFIX: PREFIX,
    ...overrides,
  });
  const bucketKeys = async () => {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    return (listed.Contents ?? []).map((object) => object.Key!).sort();
  };

  beforeAll(async () => {
    server = await startS3Server([BUCKET]);
    client = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    // Credentials reach the service as in production: through the SDK's default chain, which
    // reads them at the first request (startApp's own variables are gone by then).
    const credentials = {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const [name, value] of Object.entries(credentials)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    client?.destroy();
    await server?.close();
  });

  describe('a dataset trained and served', () => {
    let dataDir: string;
    let api: TestApp;
    let datasetId: string;
    let versionId: string;

    beforeAll(async () => {
      dataDir = makeDataDir();
      api = await startApp(dataDir, s3Env());
    });

    afterAll(async () => {
      await api?.close();
      removeDataDir(dataDir);
    });

    it('keeps the dataset, the version’s artifact and its reference samples under the prefix, none on disk', async () => {
      const dataset = await api.request('POST', '/v1/datasets', lineDataset('line'));
      expect(dataset.status).toBe(201);
      datasetId = dataset.body.id;
      const job = await api.request('POST', '/v1/training-jobs', {
        model: 'line',
        dataset: datasetId,
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'normal-equation' },
        validationSplit: 0,
        seed: 1,
      });
      expect(job.status).toBe(202);
      expect(await waitForJob(api, job.body.id)).toMatchObject({ status: 'succeeded' });
      [{ id: versionId }] = await api.app.get(DataSource).query('SELECT id FROM model_versions');

      expect(await bucketKeys()).toEqual(
        [
          `${PREFIX}artifacts/${versionId}`,
          `${PREFIX}datasets/${datasetId}`,
          `${PREFIX}references/${versionId}`,
        ].sort(),
      );
      expect(existsSync(path.join(dataDir, 'objects'))).toBe(false);
      const predicted = await api.request('POST', '/v1/models/line/predict', {
        instances: [[2, 1]],
      });
      expect(predicted.status).toBe(200);
      expect(predicted.body.predictions[0]).toBeCloseTo(1 + 2 * 2 - 3 * 1, 6);
    });

    it('reports the bucket in readiness', async () => {
      // Its own entry: the whole answer may be 503 for a moment on a loaded machine (event loop
      // delay), and a probe that timed out is retried after a few seconds.
      let ready = await api.request('GET', '/health/ready');
      for (let tries = 0; ready.body.details?.objectStore?.status !== 'up' && tries < 20; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        ready = await api.request('GET', '/health/ready');
      }
      // The whole entry, so a failure shows the probe's message.
      expect(ready.body.details?.objectStore).toEqual({ status: 'up' });
    });

    it('serves the same predictions, rows and artifact from the bucket after a restart', async () => {
      const artifact = await api.request('GET', '/v1/models/line/versions/1/artifact');
      expect(artifact.status).toBe(200);
      await api.close();
      api = await startApp(dataDir, s3Env());

      const predicted = await api.request('POST', '/v1/models/line/predict', {
        instances: [[4, 2]],
      });
      expect(predicted.status).toBe(200);
      expect(predicted.body.predictions[0]).toBeCloseTo(1 + 2 * 4 - 3 * 2, 6);
      const rows = await api.request('GET', `/v1/datasets/${datasetId}/rows?limit=2`);
      expect(rows.body.rows).toEqual([
        [0, 0, 1],
        [1, 3, -6],
      ]);
      const again = await api.request('GET', '/v1/models/line/versions/1/artifact');
      expect(again.text).toBe(artifact.text);
    });

    it('removes a dataset’s object from the bucket when the dataset is deleted', async () => {
      const spare = await api.request('POST', '/v1/datasets', lineDataset('spare'));
      expect(await bucketKeys()).toContain(`${PREFIX}datasets/${spare.body.id}`);
      expect((await api.request('DELETE', `/v1/datasets/${spare.body.id}`)).status).toBe(204);
      expect(await bucketKeys()).not.toContain(`${PREFIX}datasets/${spare.body.id}`);
      expect(await bucketKeys()).toContain(`${PREFIX}datasets/${datasetId}`);
    });
  });

  it('starts with a bucket that does not exist, live but not ready, and says which bucket', async () => {
    const dataDir = makeDataDir();
    const api = await startApp(dataDir, s3Env({ S3_BUCKET: 'no-such-bucket' }));
    try {
      expect((await api.request('GET', '/health/live')).status).toBe(200);
      const ready = await api.request('GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.objectStore.status).toBe('down');
      expect(ready.body.error.objectStore.message).toMatch(
        /s3:\/\/no-such-bucket\/team-a\/modeldock\/ .*NoSuchBucket: the bucket does not exist/,
      );
      // The store's outage, not the client's input and not a fault of ours: a 503 that names no
      // bucket (the log does), and no dataset row left behind.
      const upload = await api.request('POST', '/v1/datasets', lineDataset('nowhere'));
      expect(upload.status).toBe(503);
      expect(upload.body.detail).toMatch(/object store failed while writing/);
      expect(upload.text).not.toContain('no-such-bucket');
      expect(upload.text).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
      expect((await api.request('GET', '/v1/datasets')).body.total).toBe(0);
    } finally {
      await api.close();
      removeDataDir(dataDir);
    }
  });

  it('refuses to start without S3_BUCKET, naming the variable', async () => {
    const dataDir = makeDataDir();
    try {
      await expect(
        spawnService(dataDir, { env: { OBJECT_STORE: 's3', S3_BUCKET: '' }, timeoutMs: 30_000 }),
      ).rejects.toThrow(
        /exited with 1: .*S3_BUCKET must name the bucket when OBJECT_STORE is s3 \(e\.g\. S3_BUCKET=modeldock-objects\)\./s,
      );
    } finally {
      removeDataDir(dataDir);
    }
  });
});
