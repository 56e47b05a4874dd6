import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { TrainingJob } from '../src/training/training-job.entity';
import { lineDataset, wideDataset } from './support/fixtures';
import { prepareDatabase } from './support/test-database';
import {
  authHeaders,
  makeDataDir,
  removeDataDir,
  startApp,
  TestApp,
  waitForJob,
} from './support/test-app';

const job = (dataset: string, overrides: Record<string, unknown> = {}) => ({
  model: 'line',
  dataset,
  target: 'y',
  algorithm: 'linear-regression',
  hyperparameters: { optimizer: 'normal-equation' },
  validationSplit: 0.25,
  seed: 3,
  ...overrides,
});

describe('training jobs', () => {
  let dataDir: string;
  let api: TestApp;
  let datasetId: string;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir, {
      TRAINING_CONCURRENCY: '2',
      TRAINING_PROGRESS_INTERVAL_MS: '20',
    });
    datasetId = (await api.request('POST', '/v1/datasets', lineDataset())).body.id;
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('allocates versions 1..N exactly when jobs finish concurrently', async () => {
    const created = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.request('POST', '/v1/training-jobs', job(datasetId, { model: 'race' })),
      ),
    );
    expect(created.map((r) => r.status)).toEqual(Array(8).fill(202));
    const finished = await Promise.all(created.map((r) => waitForJob(api, r.body.id)));
    expect(finished.every((j) => j.status === 'succeeded')).toBe(true);
    expect(finished.map((j) => j.modelVersion).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    const versions = await api.request('GET', '/v1/models/race/versions?limit=100');
    expect(versions.body.total).toBe(8);
  });

  it('gives bit-identical weights for the same request and seed', async () => {
    const request = job(datasetId, {
      model: 'repeat',
      hyperparameters: { optimizer: 'gradient-descent', learningRate: 0.05, epochs: 300 },
    });
    const [a, b] = await Promise.all([
      api.request('POST', '/v1/training-jobs', request),
      api.request('POST', '/v1/training-jobs', request),
    ]);
    const [jobA, jobB] = await Promise.all([
      waitForJob(api, a.body.id),
      waitForJob(api, b.body.id),
    ]);
    const artifactA = await api.request(
      'GET',
      `/v1/models/repeat/versions/${jobA.modelVersion}/artifact`,
    );
    const artifactB = await api.request(
      'GET',
      `/v1/models/repeat/versions/${jobB.modelVersion}/artifact`,
    );
    expect(artifactA.text).toBe(artifactB.text);
    expect(artifactA.headers.get('etag')).toBe(artifactB.headers.get('etag'));
  });

  it('shows progress while running, cancels within a second and registers nothing', async () => {
    const big = (await api.request('POST', '/v1/datasets', wideDataset())).body.id;
    const created = await api.request(
      'POST',
      '/v1/training-jobs',
      job(big, {
        model: 'cancel-me',
        hyperparameters: { optimizer: 'gradient-descent', epochs: 1_000_000 },
      }),
    );
    let running;
    for (;;) {
      running = (await api.request('GET', `/v1/training-jobs/${created.body.id}`)).body;
      if (running.status === 'running' && running.progress > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(running.lossHistory.length).toBeGreaterThan(0);

    const deleteWhileRunning = await api.request('DELETE', `/v1/datasets/${big}`);
    expect(deleteWhileRunning.status).toBe(409);

    const started = Date.now();
    const cancelled = await api.request('POST', `/v1/training-jobs/${created.body.id}/cancel`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', modelVersion: null });
    expect((await api.request('GET', '/v1/models/cancel-me')).status).toBe(404);
    expect((await api.request('DELETE', `/v1/datasets/${big}`)).status).toBe(204);
    // The job keeps what it had shown before the cancel.
    const after = (await api.request('GET', `/v1/training-jobs/${created.body.id}`)).body;
    expect(after).toMatchObject({ status: 'cancelled', training: null });
    expect(after.progress).toBeGreaterThan(0);
    expect(after.lossHistory.length).toBeGreaterThan(0);
  });

  it('shows how the run went once the job succeeds, and nothing before', async () => {
    const created = await api.request(
      'POST',
      '/v1/training-jobs',
      job(datasetId, {
        model: 'summary',
        hyperparameters: { optimizer: 'gradient-descent', learningRate: 0.05, epochs: 200 },
      }),
    );
    expect(created.body.training).toBeNull();
    const done = await waitForJob(api, created.body.id);
    expect(done.status).toBe('succeeded');
    // 40 rows, validationSplit 0.25; no early stopping asked for, so every epoch runs.
    expect(done.training).toEqual({
      epochsRun: 200,
      stoppedEarly: false,
      trainRows: 30,
      validationRows: 10,
      validationLossHistory: expect.any(Array),
    });
    expect(done.training.validationLossHistory).toHaveLength(done.lossHistory.length);
  });

  it('marks a job left running by a dead process as failed and picks queued ones up at start-up', async () => {
    const first = await api.request(
      'POST',
      '/v1/training-jobs',
      job(datasetId, { model: 'recovered' }),
    );
    await waitForJob(api, first.body.id);
    await api.close();

    // Simulate a crash: one job frozen in "running", one still "queued", as a dead process leaves them.
    const dataSource = new DataSource(
      buildDataSourceOptions({ database: await prepareDatabase(dataDir) }),
    );
    await dataSource.initialize();
    const jobs = dataSource.getRepository(TrainingJob);
    const finished = await jobs.findOneByOrFail({ id: first.body.id });
    const copy = (id: string, status: 'running' | 'queued') =>
      jobs.insert({
        ...finished,
        id,
        status,
        progress: 0,
        lossHistory: [],
        metrics: null,
        modelVersion: null,
        error: null,
        startedAt: status === 'running' ? new Date() : null,
        finishedAt: null,
        attempts: status === 'running' ? 1 : 0,
      });
    await copy('11111111-1111-4111-8111-111111111111', 'running');
    await copy('22222222-2222-4222-8222-222222222222', 'queued');
    await dataSource.destroy();

    api = await startApp(dataDir);
    const interrupted = await waitForJob(api, '11111111-1111-4111-8111-111111111111');
    expect(interrupted.status).toBe('failed');
    expect(interrupted.error).toMatch(/interrupted/);
    const resumed = await waitForJob(api, '22222222-2222-4222-8222-222222222222');
    expect(resumed).toMatchObject({ status: 'succeeded', modelVersion: 2 });
  });

  it('hands a job running at shutdown back to the queue, and the next start runs it again', async () => {
    const wide = (await api.request('POST', '/v1/datasets', wideDataset())).body.id;
    const created = await api.request(
      'POST',
      '/v1/training-jobs',
      job(wide, {
        model: 'shutdown',
        hyperparameters: { optimizer: 'gradient-descent', epochs: 1_000_000 },
      }),
    );
    while (
      (await api.request('GET', `/v1/training-jobs/${created.body.id}`)).body.status !== 'running'
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await api.close();
    api = await startApp(dataDir);
    const after = (await api.request('GET', `/v1/training-jobs/${created.body.id}`)).body;
    expect(['queued', 'running']).toContain(after.status);
    expect(after).toMatchObject({ error: null, modelVersion: null });
    // Picked up again by the new process, from scratch.
    while (
      (await api.request('GET', `/v1/training-jobs/${created.body.id}`)).body.status !== 'running'
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cancelled = await api.request('POST', `/v1/training-jobs/${created.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', modelVersion: null });
    expect((await api.request('GET', '/v1/models/shutdown')).status).toBe(404);
  });

  it('streams progress as Server-Sent Events until the job is done', async () => {
    const wide = (await api.request('POST', '/v1/datasets', wideDataset())).body.id;
    const created = await api.request(
      'POST',
      '/v1/training-jobs',
      job(wide, {
        model: 'streamed',
        hyperparameters: { optimizer: 'gradient-descent', epochs: 100_000 },
      }),
    );
    const response = await fetch(`${api.baseUrl}/v1/training-jobs/${created.body.id}/events`, {
      headers: authHeaders(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const events = text
      .trim()
      .split('\n\n')
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'),
      }));
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.some((p) => p.status === 'running' && p.progress > 0 && p.progress < 1)).toBe(
      true,
    );
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i].progress).toBeGreaterThanOrEqual(progress[i - 1].progress);
    }
    expect(events.at(-1)).toMatchObject({
      event: 'done',
      data: { id: created.body.id, status: 'succeeded' },
    });

    // Without ?include=lossHistory the events stay small: no curve in them.
    expect(progress.every((p) => !('lossHistory' in p))).toBe(true);

    const missing = await api.request(
      'GET',
      '/v1/training-jobs/00000000-0000-4000-8000-000000000000/events',
    );
    expect(missing.status).toBe(404);
  });

  it('puts the loss curve so far in each progress event with ?include=lossHistory', async () => {
    const wide = (await api.request('POST', '/v1/datasets', wideDataset())).body.id;
    const created = await api.request(
      'POST',
      '/v1/training-jobs',
      job(wide, {
        model: 'streamed-curve',
        hyperparameters: { optimizer: 'gradient-descent', epochs: 100_000 },
      }),
    );
    const response = await fetch(
      `${api.baseUrl}/v1/training-jobs/${created.body.id}/events?include=lossHistory`,
      { headers: authHeaders() },
    );
    const blocks = (await response.text()).trim().split('\n\n');
    const progress = blocks
      .filter((block) => block.includes('event: progress'))
      .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)![1]));
    const running = progress.filter((p) => p.status === 'running' && p.lossHistory.length > 0);
    expect(running.length).toBeGreaterThan(0);
    for (const event of progress) {
      // The curve the event describes: `epochs` points, the last of them `loss`.
      expect(event.lossHistory).toHaveLength(event.epochs);
      if (event.epochs > 0) expect(event.lossHistory.at(-1)).toBe(event.loss);
    }
    const done = JSON.parse(/^data: (.*)$/m.exec(blocks.at(-1)!)![1]);
    expect(done.status).toBe('succeeded');

    const bad = await api.request(
      'GET',
      `/v1/training-jobs/${created.body.id}/events?include=everything`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('include');
  });

  it('exports job counts from 0, training durations, and queued and running jobs as Prometheus metrics', async () => {
    const metric = async (name: string) => {
      const text = (await api.request('GET', '/metrics')).text;
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.slice(name.length + 1));
    };
    const quick = await api.request(
      'POST',
      '/v1/training-jobs',
      job(datasetId, { model: 'gauged' }),
    );
    // Series first seen at 1 are invisible to rate() and increase(): they exist at 0 from the POST.
    for (const status of ['succeeded', 'failed', 'cancelled']) {
      expect(await metric(`modeldock_training_jobs_total{model="gauged",status="${status}"}`)).toBe(
        0,
      );
    }
    await waitForJob(api, quick.body.id);
    // The row commits with the version; the count follows when the registration returns.
    const deadline = Date.now() + 5000;
    while (
      (await metric('modeldock_training_jobs_total{model="gauged",status="succeeded"}')) !== 1 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await metric('modeldock_training_jobs_total{model="gauged",status="succeeded"}')).toBe(
      1,
    );
    expect(
      await metric('modeldock_training_duration_seconds_count{model="gauged",outcome="succeeded"}'),
    ).toBe(1);
    expect(
      await metric(
        'modeldock_training_duration_seconds_bucket{le="3600",model="gauged",outcome="succeeded"}',
      ),
    ).toBe(1);

    // Three long jobs: as many run as the (restarted) app's TRAINING_CONCURRENCY allows, the rest
    // wait. The gauges say what the database says.
    const wide = (await api.request('POST', '/v1/datasets', wideDataset())).body.id;
    const long = job(wide, {
      model: 'gauged',
      hyperparameters: { optimizer: 'gradient-descent', epochs: 1_000_000 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await api.request('POST', '/v1/training-jobs', long)).body.id);
    }
    const startBy = Date.now() + 20_000;
    while (!((await metric('modeldock_training_jobs_running')) ?? 0) && Date.now() < startBy) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const total = async (status: string) =>
      (await api.request('GET', `/v1/training-jobs?status=${status}&limit=1`)).body.total;
    const running = await metric('modeldock_training_jobs_running');
    const queued = await metric('modeldock_training_jobs_queued');
    expect(running).toBeGreaterThanOrEqual(1);
    expect(queued).toBeGreaterThanOrEqual(1);
    expect(running! + queued!).toBe(3);
    expect(running).toBe(await total('running'));
    expect(queued).toBe(await total('queued'));
    // Newest first: the waiting ones go before a freed thread could start them.
    for (const id of ids.reverse()) await api.request('POST', `/v1/training-jobs/${id}/cancel`);
    expect(await metric('modeldock_training_jobs_running')).toBe(0);
    expect(await metric('modeldock_training_jobs_queued')).toBe(0);
    expect(await metric('modeldock_training_jobs_total{model="gauged",status="cancelled"}')).toBe(
      3,
    );
    // Only the jobs that had started ran for any time.
    expect(
      await metric('modeldock_training_duration_seconds_count{model="gauged",outcome="cancelled"}'),
    ).toBe(running);
  });

  it('lists jobs filtered by status and model', async () => {
    const failed = await api.request('GET', '/v1/training-jobs?status=failed&model=recovered');
    expect(failed.body.total).toBe(1);
    expect(failed.body.items[0].id).toBe('11111111-1111-4111-8111-111111111111');
    const bad = await api.request('GET', '/v1/training-jobs?status=exploded');
    expect(bad.status).toBe(400);
  });
});
