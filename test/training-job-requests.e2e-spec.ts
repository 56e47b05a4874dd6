import { lineDataset } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const job = (dataset: string, overrides: Record<string, unknown> = {}) => ({
  model: 'by-name',
  dataset,
  target: 'y',
  algorithm: 'linear-regression',
  hyperparameters: { optimizer: 'normal-equation' },
  ...overrides,
});

describe('training job requests', () => {
  let dataDir: string;
  let api: TestApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('trains on a dataset given by name: the newest of that name, recorded by id', async () => {
    const older = await api.request('POST', '/v1/datasets', lineDataset('twice'));
    const newer = await api.request('POST', '/v1/datasets', lineDataset('twice'));
    expect([older.status, newer.status]).toEqual([201, 201]);
    expect(newer.body.id).not.toBe(older.body.id);

    const created = await api.request('POST', '/v1/training-jobs', job('twice'));
    expect(created.status).toBe(202);
    expect(created.body.dataset).toBe(newer.body.id);
    const finished = await waitForJob(api, created.body.id);
    expect(finished).toMatchObject({ status: 'succeeded', dataset: newer.body.id });

    // An id still names exactly that dataset, older or not.
    const byId = await api.request('POST', '/v1/training-jobs', job(older.body.id));
    expect(byId.status).toBe(202);
    expect(byId.body.dataset).toBe(older.body.id);
    await waitForJob(api, byId.body.id);
  });

  it.each([
    ['a name no dataset has', 'no-such-dataset'],
    ['an id no dataset has', '00000000-0000-4000-8000-000000000000'],
  ])('answers %s with a 400 naming the field and how to find one', async (_what, dataset) => {
    const res = await api.request('POST', '/v1/training-jobs', job(dataset));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.body.errors).toEqual([{ field: 'dataset', message: 'does not exist' }]);
    expect(res.body.detail).toContain(JSON.stringify(dataset));
    expect(res.body.detail).toContain('GET /v1/datasets');
  });

  it('refuses a dataset reference that is neither an id nor a name, naming the rule', async () => {
    const res = await api.request('POST', '/v1/training-jobs', job('no spaces/allowed'));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        field: 'dataset',
        message: expect.stringMatching(/dataset id or name; a name must be 1-128 characters/),
      },
    ]);
  });

  it.each([
    ['a null body', null],
    ['an empty object', {}],
  ])('lists each missing field of %s once', async (_what, body) => {
    const res = await api.request('POST', '/v1/training-jobs', body);
    expect(res.status).toBe(400);
    const fields: string[] = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields.sort()).toEqual(['algorithm', 'dataset', 'model', 'target']);
    expect(res.body.errors).toContainEqual({
      field: 'target',
      message: 'target must be a string; target must be shorter than or equal to 128 characters',
    });
  });

  it('lists a field that breaks several of its rules once, with every rule it breaks', async () => {
    const res = await api.request(
      'POST',
      '/v1/training-jobs',
      job('twice', { validationSplit: 'half' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].field).toBe('validationSplit');
    expect(res.body.errors[0].message).toMatch(
      /must be a number.*; .*less than 0.*; .*greater than 0.9/,
    );
  });

  it('refuses before queueing what the worker would refuse: too many text labels to classify', async () => {
    // 150 labels in 1000 rows: each repeats, but there are more than 100 classes.
    const rows = Array.from({ length: 1000 }, (_, i) => [i % 13, `c${i % 150}`]);
    const upload = await api.request('POST', '/v1/datasets', {
      name: 'labels',
      columns: ['x', 'label'],
      rows,
    });
    const res = await api.request(
      'POST',
      '/v1/training-jobs',
      job(upload.body.id, {
        target: 'label',
        algorithm: 'logistic-regression',
        hyperparameters: {},
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        field: 'target',
        message: expect.stringMatching(
          /150 distinct labels in 1000 rows; .*at most 100 class labels/,
        ),
      },
    ]);
  });
});
