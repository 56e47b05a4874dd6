import { diabetesCsv, diabetesInstances, diabetesReference, lineDataset } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

describe('dataset → training → registry → prediction', () => {
  let dataDir: string;
  let api: TestApp;
  let datasetId: string;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('uploads a CSV dataset and infers numeric columns', async () => {
    const res = await api.request('POST', '/v1/datasets?name=diabetes', diabetesCsv, {
      'content-type': 'text/csv',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/datasets/${res.body.id}`);
    expect(res.body).toMatchObject({ name: 'diabetes', rowCount: 442 });
    expect(res.body.columns).toHaveLength(11);
    expect(res.body.columns.every((c: { type: string }) => c.type === 'number')).toBe(true);
    expect(res.body.checksum).toMatch(/^[0-9a-f]{64}$/);
    datasetId = res.body.id;

    const rows = await api.request('GET', `/v1/datasets/${datasetId}/rows?limit=2&offset=1`);
    expect(rows.status).toBe(200);
    expect(rows.body.total).toBe(442);
    expect(rows.body.rows).toHaveLength(2);
    expect(rows.body.rows[0].slice(0, 10)).toEqual(diabetesInstances(2)[1]);
  });

  it('gives the same checksum to the same table uploaded as CSV, JSON rows or JSON records', async () => {
    const table = lineDataset('line-rows');
    const csv = ['x1,x2,y', ...table.rows.map((r) => r.join(','))].join('\n');
    const records = table.rows.map(([x1, x2, y]) => ({ x1, x2, y }));
    const fromRows = await api.request('POST', '/v1/datasets', table);
    const fromCsv = await api.request('POST', '/v1/datasets?name=line-csv', csv, {
      'content-type': 'text/csv',
    });
    const fromRecords = await api.request('POST', '/v1/datasets', {
      name: 'line-records',
      records,
    });
    expect([fromRows.status, fromCsv.status, fromRecords.status]).toEqual([201, 201, 201]);
    expect(fromCsv.body.checksum).toBe(fromRows.body.checksum);
    expect(fromRecords.body.checksum).toBe(fromRows.body.checksum);
  });

  it('trains by gradient descent: queued → succeeded with progress, a falling loss and version 1', async () => {
    const created = await api.request('POST', '/v1/training-jobs', {
      model: 'diabetes-lr',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'gradient-descent', learningRate: 0.1, epochs: 5000 },
      validationSplit: 0.2,
      seed: 7,
    });
    expect(created.status).toBe(202);
    expect(created.headers.get('location')).toBe(`/v1/training-jobs/${created.body.id}`);
    expect(created.body).toMatchObject({
      status: 'queued',
      progress: 0,
      modelVersion: null,
      seed: 7,
    });
    expect(created.body.features).toEqual(diabetesReference.features);

    const job = await waitForJob(api, created.body.id);
    expect(job).toMatchObject({ status: 'succeeded', progress: 1, modelVersion: 1, error: null });
    expect(job.startedAt).not.toBeNull();
    expect(job.finishedAt).not.toBeNull();
    expect(job.lossHistory.length).toBeGreaterThan(10);
    expect(job.lossHistory.at(-1)).toBeLessThan(job.lossHistory[0]);
    for (const split of ['train', 'validation']) {
      expect(Object.keys(job.metrics[split]).sort()).toEqual(['mae', 'mse', 'r2', 'rmse']);
    }
    expect(job.metrics.train.r2).toBeGreaterThan(0.45);
    expect(job.metrics.validation.r2).toBeGreaterThan(0.3);
  });

  it('registers version 2 by normal equation that reproduces scikit-learn, and moves production to it', async () => {
    const created = await api.request('POST', '/v1/training-jobs', {
      model: 'diabetes-lr',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0,
      seed: 1,
      alias: 'production',
      tags: { owner: 'e2e' },
    });
    expect(created.status).toBe(202);
    const job = await waitForJob(api, created.body.id);
    expect(job).toMatchObject({ status: 'succeeded', modelVersion: 2 });
    expect(job.metrics.validation).toBeNull();
    expect(job.metrics.train.r2).toBeCloseTo(diabetesReference.metrics.r2, 6);

    const model = await api.request('GET', '/v1/models/diabetes-lr');
    expect(model.status).toBe(200);
    expect(model.body).toMatchObject({
      name: 'diabetes-lr',
      latestVersion: 2,
      aliases: { production: 2 },
    });

    const version = await api.request('GET', '/v1/models/diabetes-lr/versions/2');
    expect(version.body).toMatchObject({
      model: 'diabetes-lr',
      version: 2,
      status: 'ready',
      algorithm: 'linear-regression',
      format: 'modeldock/v2',
      aliases: ['production'],
      trainingJob: job.id,
      dataset: { id: datasetId },
      tags: { owner: 'e2e' },
    });
    expect(version.body.inputSchema.map((f: { name: string }) => f.name)).toEqual(
      diabetesReference.features,
    );
    expect(version.body.checksum).toMatch(/^[0-9a-f]{64}$/);

    const artifact = await api.request('GET', '/v1/models/diabetes-lr/versions/2/artifact');
    expect(artifact.status).toBe(200);
    expect(artifact.headers.get('etag')).toBe(`"${version.body.checksum}"`);
    expect(artifact.body.format).toBe('modeldock/v2');

    const events = await api.request('GET', '/v1/models/diabetes-lr/events');
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual([
      'alias_set',
      'version_created',
      'version_created',
      'model_created',
    ]);
    expect(events.body.items[0]).toMatchObject({
      alias: 'production',
      fromVersion: null,
      toVersion: 2,
    });
  });

  it('predicts with the production version, from arrays or objects, like scikit-learn', async () => {
    const instances = diabetesInstances(5);
    const res = await api.request('POST', '/v1/models/diabetes-lr/predict', { instances });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('2');
    expect(res.body).toMatchObject({ model: 'diabetes-lr', version: 2 });
    res.body.predictions.forEach((p: number, i: number) =>
      expect(p).toBeCloseTo(diabetesReference.firstPredictions[i], 6),
    );

    const objects = instances.map((row) =>
      Object.fromEntries(diabetesReference.features.map((f, j) => [f, row[j]])),
    );
    const fromObjects = await api.request('POST', '/v1/models/diabetes-lr/predict', {
      instances: objects,
    });
    expect(fromObjects.body.predictions).toEqual(res.body.predictions);

    const metrics = await api.request('GET', '/metrics');
    expect(metrics.text).toContain(
      'modeldock_predictions_total{model="diabetes-lr",version="2"} 2',
    );
    expect(metrics.text).toContain(
      'modeldock_predicted_rows_total{model="diabetes-lr",version="2"} 10',
    );
    expect(metrics.text).toContain(
      'modeldock_training_jobs_total{model="diabetes-lr",status="succeeded"} 2',
    );
  });

  it('serves another version on ?version= and follows an alias move on the next request', async () => {
    const instances = diabetesInstances(1);
    const v1 = await api.request('POST', '/v1/models/diabetes-lr/predict?version=1', { instances });
    expect(v1.status).toBe(200);
    expect(v1.headers.get('x-model-version')).toBe('1');

    const moved = await api.request('PUT', '/v1/models/diabetes-lr/aliases/production', {
      version: 1,
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ alias: 'production', version: 1 });
    const after = await api.request('POST', '/v1/models/diabetes-lr/predict', { instances });
    expect(after.body.version).toBe(1);
    expect(after.body.predictions).toEqual(v1.body.predictions);

    await api.request('PUT', '/v1/models/diabetes-lr/aliases/production', { version: 2 });
    const byAlias = await api.request('POST', '/v1/models/diabetes-lr/predict?alias=production', {
      instances,
    });
    expect(byAlias.body.version).toBe(2);
  });

  it('serves the latest ready version when no production alias is set', async () => {
    const deleted = await api.request('DELETE', '/v1/models/diabetes-lr/aliases/production');
    expect(deleted.status).toBe(204);
    const res = await api.request('POST', '/v1/models/diabetes-lr/predict', {
      instances: diabetesInstances(1),
    });
    expect(res.body.version).toBe(2);
    const alias = await api.request('GET', '/v1/models/diabetes-lr/aliases/production');
    expect(alias.status).toBe(404);
  });

  it('finds models, versions and identical predictions after a restart on the same data directory', async () => {
    const instances = diabetesInstances(5);
    const before = await api.request('POST', '/v1/models/diabetes-lr/predict?version=1', {
      instances,
    });
    const versionsBefore = await api.request('GET', '/v1/models/diabetes-lr/versions');
    await api.close();

    api = await startApp(dataDir);
    const versionsAfter = await api.request('GET', '/v1/models/diabetes-lr/versions');
    expect(versionsAfter.body).toEqual(versionsBefore.body);
    expect(versionsAfter.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const after = await api.request('POST', '/v1/models/diabetes-lr/predict?version=1', {
      instances,
    });
    expect(after.body.predictions).toEqual(before.body.predictions);
    const datasets = await api.request('GET', '/v1/datasets');
    expect(datasets.body.total).toBe(4);
  });
});
