import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { diabetesCsv } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const reference = (name: string) => JSON.parse(fixture(name));

describe('training engine: algorithms, preprocessing and hyperparameters over HTTP', () => {
  let dataDir: string;
  let api: TestApp;
  const datasets: Record<string, string> = {};

  const upload = async (name: string, csv: string) => {
    const res = await api.request('POST', `/v1/datasets?name=${name}`, csv, {
      'content-type': 'text/csv',
    });
    expect(res.status).toBe(201);
    datasets[name] = res.body.id;
  };
  const train = async (request: Record<string, unknown>) => {
    const created = await api.request('POST', '/v1/training-jobs', {
      validationSplit: 0,
      seed: 3,
      ...request,
    });
    expect(created.status).toBe(202);
    return waitForJob(api, created.body.id);
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    await upload('iris', fixture('iris.csv'));
    await upload('breast-cancer', fixture('breast-cancer.csv'));
    await upload('mixed', fixture('mixed.csv'));
    await upload('diabetes', diabetesCsv);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('trains a multinomial classifier on string labels that matches scikit-learn and serves probabilities', async () => {
    const sklearn = reference('iris.sklearn.json');
    const job = await train({
      model: 'iris',
      dataset: datasets.iris,
      target: 'species',
      algorithm: 'logistic-regression',
    });
    expect(job.status).toBe('succeeded');
    expect(job.hyperparameters).toMatchObject({ optimizer: 'lbfgs', l2: 1 });
    const metrics = job.metrics.train;
    expect(Math.abs(metrics.accuracy - sklearn.metrics.accuracy)).toBeLessThanOrEqual(0.01);
    expect(metrics.logLoss).toBeCloseTo(sklearn.metrics.logLoss, 2);
    expect(metrics.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(metrics.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(150);
    for (const key of ['precision', 'recall', 'f1']) expect(metrics[key]).toBeGreaterThan(0.9);

    const version = await api.request('GET', `/v1/models/iris/versions/${job.modelVersion}`);
    expect(version.body.outputSchema[0]).toMatchObject({ name: 'species' });
    const res = await api.request('POST', '/v1/models/iris/predict', {
      instances: [
        [5.1, 3.5, 1.4, 0.2],
        { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(res.body.predictions).toEqual(['setosa', 'virginica']);
    res.body.probabilities.forEach((row: number[]) => {
      expect(row).toHaveLength(3);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    });
    sklearn.firstProbabilities[0].forEach((p: number, k: number) =>
      expect(res.body.probabilities[0][k]).toBeCloseTo(p, 2),
    );
  });

  it('trains a binary classifier on 0/1 labels, with balanced class weights', async () => {
    const sklearn = reference('breast-cancer.sklearn.json');
    const job = await train({
      model: 'cancer',
      dataset: datasets['breast-cancer'],
      target: 'benign',
      algorithm: 'logistic-regression',
      hyperparameters: { classWeight: 'balanced' },
    });
    expect(job.status).toBe('succeeded');
    expect(Math.abs(job.metrics.train.accuracy - sklearn.metrics.accuracy)).toBeLessThanOrEqual(
      0.02,
    );
    const rows = fixture('breast-cancer.csv').trim().split('\n').slice(1, 3);
    const instances = rows.map((line) => line.split(',').slice(0, -1).map(Number));
    const res = await api.request('POST', '/v1/models/cancer/predict', { instances });
    expect(res.body.classes).toEqual([0, 1]);
    expect(res.body.predictions.every((label: unknown) => label === 0 || label === 1)).toBe(true);
  });

  it('imputes missing values and one-hot encodes strings like a scikit-learn pipeline', async () => {
    const sklearn = reference('mixed.sklearn.json');
    const emptyCells = (j: number) =>
      fixture('mixed.csv')
        .trim()
        .split('\n')
        .slice(1)
        .filter((line) => line.split(',')[j] === '').length;
    const dataset = await api.request('GET', `/v1/datasets/${datasets.mixed}`);
    expect(dataset.body.columns.map((c: { missing: number }) => c.missing)).toEqual(
      [0, 1, 2, 3].map(emptyCells),
    );
    expect(emptyCells(1)).toBeGreaterThan(0);
    const job = await train({
      model: 'mixed',
      dataset: datasets.mixed,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
    });
    expect(job.status).toBe('succeeded');
    expect(job.metrics.train.r2).toBeCloseTo(sklearn.r2, 6);
    const version = (await api.request('GET', `/v1/models/mixed/versions/${job.modelVersion}`))
      .body;
    expect(version.inputSchema).toEqual([
      { name: 'size', type: 'number' },
      { name: 'color', type: 'string' },
      { name: 'age', type: 'number' },
    ]);
    // Rows with nulls and categories never seen in training (purple, Blue).
    const { size, color, age } = sklearn.query;
    const instances = size.map((_: unknown, i: number) => ({
      size: size[i],
      color: color[i],
      age: age[i],
    }));
    const res = await api.request('POST', '/v1/models/mixed/predict', { instances });
    expect(res.status).toBe(200);
    res.body.predictions.forEach((p: number, i: number) =>
      expect(p).toBeCloseTo(sklearn.queryPredictions[i], 6),
    );
    const nullValues = await api.request('POST', '/v1/models/mixed/predict', {
      instances: [{ size: 55.5, color: null, age: null }],
    });
    expect(nullValues.status).toBe(200);
  });

  it('trains ridge regression in closed form to scikit-learn Ridge(alpha=1)', async () => {
    const sklearn = reference('diabetes-ridge.sklearn.json');
    const job = await train({
      model: 'ridge',
      dataset: datasets.diabetes,
      target: 'y',
      algorithm: 'ridge-regression',
    });
    expect(job).toMatchObject({
      status: 'succeeded',
      hyperparameters: { optimizer: 'normal-equation', l2: 1 },
    });
    expect(job.metrics.train.r2).toBeCloseTo(sklearn.metrics.r2, 6);
  });

  it.each(['sgd', 'adam'])(
    'trains with %s mini-batches, bit-identically for one seed',
    async (optimizer) => {
      const request = {
        model: `mini-${optimizer}`,
        dataset: datasets.diabetes,
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: {
          optimizer,
          epochs: 50,
          batchSize: 16,
          learningRate: optimizer === 'sgd' ? 0.01 : 0.05,
        },
      };
      const [a, b] = [await train(request), await train(request)];
      expect(a.status).toBe('succeeded');
      expect(a.metrics.train.r2).toBeGreaterThan(0.45);
      const artifact = (job: any) =>
        api.request('GET', `/v1/models/mini-${optimizer}/versions/${job.modelVersion}/artifact`);
      expect((await artifact(a)).text).toBe((await artifact(b)).text);
      const other = await train({ ...request, seed: 4 });
      expect((await artifact(other)).text).not.toBe((await artifact(a)).text);
    },
  );

  it('stops early when the validation loss stops improving', async () => {
    const job = await train({
      model: 'early',
      dataset: datasets.diabetes,
      target: 'y',
      algorithm: 'linear-regression',
      validationSplit: 0.3,
      hyperparameters: {
        optimizer: 'gradient-descent',
        learningRate: 0.1,
        epochs: 900,
        patience: 5,
        tolerance: 1e-3,
      },
    });
    expect(job.status).toBe('succeeded');
    expect(job.lossHistory.length).toBeLessThan(900);
    // "Stopped early at epoch N, validation loss …" is on the job.
    expect(job.training.stoppedEarly).toBe(true);
    expect(job.training.epochsRun).toBeLessThan(900);
    expect(job.training.epochsRun).toBeGreaterThan(5);
    expect(job.training.trainRows + job.training.validationRows).toBe(442);
    expect(job.training.validationRows).toBe(Math.round(442 * 0.3));
    expect(job.training.validationLossHistory).toHaveLength(job.lossHistory.length);
    expect(job.training.validationLossHistory.every(Number.isFinite)).toBe(true);
  });

  it.each([
    [
      'regression on a string target, pointing to logistic-regression',
      { dataset: 'iris', target: 'species', algorithm: 'linear-regression' },
      'target',
      /logistic-regression/,
    ],
    [
      'classification of a quantity, pointing to regression',
      { dataset: 'diabetes', target: 'y', algorithm: 'logistic-regression' },
      'target',
      /linear-regression/,
    ],
    [
      'an optimizer the algorithm does not have',
      {
        dataset: 'diabetes',
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'lbfgs' },
      },
      'hyperparameters.optimizer',
      /gradient-descent/,
    ],
    [
      'a batch size of zero',
      {
        dataset: 'diabetes',
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: { batchSize: 0 },
      },
      'hyperparameters.batchSize',
      /integer/,
    ],
    [
      'class weights that are not positive numbers',
      {
        dataset: 'iris',
        target: 'species',
        algorithm: 'logistic-regression',
        hyperparameters: { classWeight: { setosa: 0 } },
      },
      'hyperparameters.classWeight',
      /positive/,
    ],
    [
      'a negative l2 penalty',
      {
        dataset: 'diabetes',
        target: 'y',
        algorithm: 'ridge-regression',
        hyperparameters: { l2: -1 },
      },
      'hyperparameters.l2',
      />= 0/,
    ],
  ])('rejects %s with a 400 naming the field', async (_what, request: any, field, message) => {
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'refused',
      ...request,
      dataset: datasets[request.dataset],
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const error = res.body.errors.find((e: { field: string }) => e.field === field);
    expect(error?.message).toMatch(message);
  });

  it('refuses a string feature with too many distinct values to one-hot encode', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => `id-${i},${i % 7},${i % 5}`);
    await upload('ids', ['id,x,y', ...rows].join('\n'));
    const res = await api.request('POST', '/v1/training-jobs', {
      model: 'refused',
      dataset: datasets.ids,
      target: 'y',
      algorithm: 'linear-regression',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({
      field: 'features[0]',
      message: expect.stringMatching(/1000 distinct/),
    });
  });
});
