import { lineDataset } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

/** Every bad input gets a 4xx problem+json that says what is wrong, and stored state survives. */
describe('bad input', () => {
  let dataDir: string;
  let api: TestApp;
  let datasetId: string;
  let stringsDatasetId: string;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir, { BODY_LIMIT_BYTES: '65536' });
    datasetId = (await api.request('POST', '/v1/datasets', lineDataset())).body.id;
    stringsDatasetId = (
      await api.request('POST', '/v1/datasets', {
        name: 'cities',
        records: [
          { city: 'Lyon', size: 1, label: 'a' },
          { city: 'Nice', size: 2, label: 'b' },
          { city: 'Metz', size: 3, label: 'a' },
        ],
      })
    ).body.id;
    const job = await api.request('POST', '/v1/training-jobs', {
      model: 'line',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0,
    });
    await waitForJob(api, job.body.id);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
    expect(res.body.detail.length).toBeGreaterThan(10);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  }

  const fields = (res: { body: any }) =>
    (res.body.errors ?? []).map((e: { field: string }) => e.field);

  it('rejects malformed JSON with 400', async () => {
    const res = await api.request('POST', '/v1/models', '{"name": "x",', {
      'content-type': 'application/json',
    });
    expectProblem(res, 400);
    expect(res.body.title).toBe('Malformed JSON');
  });

  it('rejects a CSV with a ragged row, naming its line', async () => {
    const res = await api.request('POST', '/v1/datasets?name=ragged', 'a,b,y\n1,2,3\n4,5\n', {
      'content-type': 'text/csv',
    });
    expectProblem(res, 400);
    expect(JSON.stringify(res.body)).toMatch(/line 3/);
  });

  it('rejects an empty CSV and a CSV with duplicate column names', async () => {
    expectProblem(
      await api.request('POST', '/v1/datasets?name=empty', '', { 'content-type': 'text/csv' }),
      400,
    );
    const dup = await api.request('POST', '/v1/datasets?name=dup', 'a,a,y\n1,2,3\n', {
      'content-type': 'text/csv',
    });
    expectProblem(dup, 400);
    expect(dup.body.detail).toMatch(/"a" is used by columns 1 and 2/);
  });

  it('rejects a CSV upload without a name and a dataset with an invalid name', async () => {
    expectProblem(
      await api.request('POST', '/v1/datasets', 'a,y\n1,2\n', { 'content-type': 'text/csv' }),
      400,
    );
    const res = await api.request('POST', '/v1/datasets', { ...lineDataset(), name: '../etc' });
    expectProblem(res, 400);
    expect(fields(res)).toContain('name');
  });

  it('rejects a training job on a dataset that does not exist', async () => {
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'm',
      dataset: '00000000-0000-4000-8000-000000000000',
      target: 'y',
      algorithm: 'linear-regression',
    });
    expectProblem(res, 400);
    expect(fields(res)).toEqual(['dataset']);
  });

  it('rejects a training job whose target is not a column, naming the columns', async () => {
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'm',
      dataset: datasetId,
      target: 'price',
      algorithm: 'linear-regression',
    });
    expectProblem(res, 400);
    expect(res.body.errors[0]).toMatchObject({ field: 'target' });
    expect(res.body.errors[0].message).toMatch(/x1, x2, y/);
  });

  it('rejects regression on a string target column', async () => {
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'm',
      dataset: stringsDatasetId,
      target: 'label',
      features: ['size'],
      algorithm: 'linear-regression',
    });
    expectProblem(res, 400);
    expect(res.body.errors[0].message).toMatch(/strings/);
  });

  it('rejects out-of-range and unknown hyperparameters, each by field', async () => {
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'm',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { learningRate: -1, epochs: 0, momentum: 0.9 },
    });
    expectProblem(res, 400);
    expect(fields(res).sort()).toEqual(
      ['hyperparameters.epochs', 'hyperparameters.learningRate', 'hyperparameters.momentum'].sort(),
    );
  });

  it('rejects an unknown algorithm and a validation split above 0.9', async () => {
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'm',
      dataset: datasetId,
      target: 'y',
      algorithm: 'random-forest',
      validationSplit: 0.95,
    });
    expectProblem(res, 400);
    expect(fields(res).sort()).toEqual(['algorithm', 'validationSplit']);
  });

  it('fails a diverging job with advice instead of registering a broken version', async () => {
    const created = await api.request('POST', '/v1/training-jobs', {
      model: 'diverges',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { learningRate: 5, epochs: 500 },
    });
    const job = await waitForJob(api, created.body.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/learningRate/);
    expect(job.modelVersion).toBeNull();
    expectProblem(await api.request('GET', '/v1/models/diverges'), 404);
  });

  it('rejects predictions with the wrong number of features, naming the row', async () => {
    const res = await api.request('POST', '/v1/models/line/predict', {
      instances: [
        [1, 2],
        [1, 2, 3],
      ],
    });
    expectProblem(res, 400);
    expect(fields(res)).toEqual(['instances[1]']);
  });

  it('rejects non-numeric and unknown features, naming row and feature', async () => {
    const res = await api.request('POST', '/v1/models/line/predict', {
      instances: [
        { x1: 1, x2: 'two' },
        { x1: 1, x2: null, x3: 2 },
      ],
    });
    expectProblem(res, 400);
    // The null x2 of row 1 is no error: models trained here impute missing values.
    expect(fields(res)).toEqual(['instances[0].x2', 'instances[1].x3']);
  });

  it('rejects a feature left out of an instance, naming instance and feature; null is imputed', async () => {
    const res = await api.request('POST', '/v1/models/line/predict', {
      instances: [{ x1: 1, x2: 2 }, { x2: 2 }],
    });
    expectProblem(res, 400);
    expect(res.body.errors).toEqual([
      { field: 'instances[1].x1', message: expect.stringMatching(/is absent.*null marks/) },
    ]);
    const imputed = await api.request('POST', '/v1/models/line/predict', {
      instances: [{ x1: null, x2: 2 }],
    });
    expect(imputed.status).toBe(200);
    expect(Number.isFinite(imputed.body.predictions[0])).toBe(true);
  });

  it('refuses instances whose arithmetic overflows with 422 naming them, never a null prediction', async () => {
    // y = 1 + 2·x1 − 3·x2: 2e308 and 3e308 are beyond Float64.
    const res = await api.request('POST', '/v1/models/line/predict', {
      instances: [[1, 2], [1e308, -1e308], { x1: 3, x2: 1 }, [-1e308, 1e308]],
    });
    expectProblem(res, 422);
    expect(fields(res)).toEqual(['instances[1]', 'instances[3]']);
    expect(res.body.detail).toMatch(/^instances\[1\], instances\[3\]: no finite prediction/);
  });

  it('rejects a predict body without instances, and an empty batch', async () => {
    const missing = await api.request('POST', '/v1/models/line/predict', { rows: [[1, 2]] });
    expectProblem(missing, 400);
    expect(fields(missing)).toEqual(['body.instances']);
    expectProblem(await api.request('POST', '/v1/models/line/predict', { instances: [] }), 400);
  });

  it('answers 404 for an unknown model or version, and 400 for both ?version and ?alias', async () => {
    expectProblem(
      await api.request('POST', '/v1/models/nope/predict', { instances: [[1, 2]] }),
      404,
    );
    expectProblem(
      await api.request('POST', '/v1/models/line/predict?version=9', { instances: [[1, 2]] }),
      404,
    );
    expectProblem(await api.request('GET', '/v1/models/line/versions/abc'), 400);
    expectProblem(
      await api.request('POST', '/v1/models/line/predict?version=1&alias=production', {
        instances: [[1, 2]],
      }),
      400,
    );
  });

  it('refuses an alias on a version that does not exist and an invalid alias name', async () => {
    expectProblem(
      await api.request('PUT', '/v1/models/line/aliases/production', { version: 5 }),
      404,
    );
    expectProblem(
      await api.request('PUT', '/v1/models/line/aliases/production', { version: 'one' }),
      400,
    );
    expectProblem(
      await api.request('PUT', '/v1/models/line/aliases/bad%20name', { version: 1 }),
      400,
    );
  });

  it('answers 404 problem+json for unknown routes and 400 for a malformed id', async () => {
    expectProblem(await api.request('GET', '/v1/nothing-here'), 404);
    expectProblem(await api.request('GET', '/v1/training-jobs/not-a-uuid'), 400);
  });

  it('rejects a body over the limit with 413', async () => {
    const res = await api.request('POST', '/v1/models', {
      name: 'big',
      description: 'x'.repeat(100_000),
    });
    expectProblem(res, 413);
  });

  it('rejects tags that are not a map of strings', async () => {
    const res = await api.request('POST', '/v1/models', { name: 'tagged', tags: { team: 7 } });
    expectProblem(res, 400);
    expect(fields(res)).toEqual(['tags']);
  });

  it('refuses to create a model twice and to cancel a finished job', async () => {
    expectProblem(await api.request('POST', '/v1/models', { name: 'line' }), 409);
    const jobs = await api.request('GET', '/v1/training-jobs?model=line');
    expectProblem(
      await api.request('POST', `/v1/training-jobs/${jobs.body.items[0].id}/cancel`),
      409,
    );
  });

  it('still serves the stored model unchanged after all of that', async () => {
    const res = await api.request('POST', '/v1/models/line/predict', { instances: [[2, 1]] });
    expect(res.status).toBe(200);
    expect(res.body.predictions[0]).toBeCloseTo(1 + 2 * 2 - 3 * 1, 9);
    const versions = await api.request('GET', '/v1/models/line/versions');
    expect(versions.body.total).toBe(1);
  });
});
