import { housingArtifact, housingInstances, lineDataset } from './support/fixtures';
import { freePort } from './support/service-process';
import { makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';

/** REDIS_URL points at a port nothing listens on: Redis is down from the start. */
describe('an API replica while Redis is down', () => {
  let dataDir: string;
  let api: TestApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('is live but not ready, and says Redis is why', async () => {
    expect((await api.request('GET', '/health/live')).status).toBe(200);
    const ready = await api.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.redis).toMatchObject({ status: 'down' });
    expect(ready.body.info.database).toMatchObject({ status: 'up' });
  });

  it('still answers predictions and registry calls at once (rate limits let them through)', async () => {
    const imported = await api.request('POST', '/v1/models/house/versions', {
      artifact: housingArtifact(),
      alias: 'production',
    });
    expect({ status: imported.status, body: imported.body }).toMatchObject({ status: 201 });
    const started = Date.now();
    const predicted = await api.request('POST', '/v1/models/house/predict', {
      instances: housingInstances().slice(0, 1),
    });
    expect(predicted.status).toBe(200);
    expect(predicted.body.version).toBe(1);
    // No waiting on a Redis that is not there.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('accepts a training job and keeps it queued until a worker can take it', async () => {
    const dataset = (await api.request('POST', '/v1/datasets', lineDataset())).body.id;
    const submitted = await api.request('POST', '/v1/training-jobs', {
      model: 'later',
      dataset,
      target: 'y',
      algorithm: 'linear-regression',
    });
    expect({ status: submitted.status, body: submitted.body }).toMatchObject({ status: 202 });
    expect(submitted.body.status).toBe('queued');
    const cancelled = await api.request('POST', `/v1/training-jobs/${submitted.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });
});
