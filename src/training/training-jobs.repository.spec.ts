import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import { buildDataSourceOptions } from '../database/data-source-options';
import { MetricsService } from '../metrics/metrics.service';
import type { ModelsService, NewModelVersion } from '../models/models.service';
import type { ModelVersion } from '../models/model-version.entity';
import { TrainingJob } from './training-job.entity';
import { NewTrainingJob, SucceededRun, TrainingJobsRepository } from './training-jobs.repository';

const fields = (id: string, model = 'house'): NewTrainingJob => ({
  id,
  modelName: model,
  datasetId: '7535b53f-dfaa-40fd-8120-b98f210ca973',
  target: 'y',
  features: ['x'],
  algorithm: 'linear-regression',
  hyperparameters: {},
  validationSplit: 0.2,
  seed: 1,
  alias: null,
  description: null,
  tags: {},
  createdBy: 'test',
  createdByRole: 'trainer',
});

const run: SucceededRun = {
  metrics: { train: { mse: 1 }, validation: { mse: 2 } },
  lossHistory: [3, 2, 1],
  training: {
    epochsRun: 3,
    stoppedEarly: true,
    trainRows: 8,
    validationRows: 2,
    validationLossHistory: [4, 3, 2],
  },
};

describe('TrainingJobsRepository: one owner of a job status, transitions that report lost races', () => {
  let dir: string;
  let dataSource: DataSource;
  let metrics: MetricsService;
  let jobs: TrainingJobsRepository;
  let registered: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'modeldock-jobs-'));
    dataSource = new DataSource(
      buildDataSourceOptions({
        database: { type: 'sqlite', path: path.join(dir, 'jobs.sqlite') },
      } as Pick<AppConfig, 'database'>),
    );
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await dataSource.getRepository(TrainingJob).clear();
    registered = 0;
    metrics = new MetricsService({ metrics: { maxModelLabels: 100 } } as AppConfig);
    // The registry's contract: the caller's write commits with the version, or nothing does.
    const models = {
      registerVersion: (_input: NewModelVersion, commitWith) =>
        dataSource.transaction(async (manager) => {
          const version = { version: registered + 1 } as ModelVersion;
          if (!(await commitWith(manager, version))) return null;
          registered++;
          return { version, aliases: [] };
        }),
    } as Pick<ModelsService, 'registerVersion'> as ModelsService;
    jobs = new TrainingJobsRepository(dataSource.getRepository(TrainingJob), models, metrics);
    jobs.onModuleInit();
  });

  const metricLine = async (pattern: string) =>
    (await metrics.render()).split('\n').find((line) => line.startsWith(pattern));
  const succeed = (job: TrainingJob) => jobs.succeed(job, {} as NewModelVersion, run);

  it('records a new job as queued and starts its final-status series at 0', async () => {
    const job = await jobs.create(fields('a'));
    expect(await jobs.get('a')).toMatchObject({ status: 'queued', attempts: 0, training: null });
    expect(job.status).toBe('queued');
    for (const status of ['succeeded', 'failed', 'cancelled']) {
      expect(
        await metricLine(`modeldock_training_jobs_total{model="house",status="${status}"}`),
      ).toMatch(/ 0$/);
    }
  });

  it('lets exactly one of two runners claim a job, under attempt 1', async () => {
    const seen = await jobs.create(fields('a'));
    const [first, second] = await Promise.all([jobs.claim(seen), jobs.claim(seen)]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(await jobs.get('a')).toMatchObject({ status: 'running', attempts: 1 });
  });

  it('stops a run whose job was cancelled: progress refused, success refused, nothing registered', async () => {
    const claimed = (await jobs.claim(await jobs.create(fields('a'))))!;
    expect(await jobs.reportProgress(claimed, 0.4, [5, 4])).toBe(true);
    const cancelled = await jobs.cancel('a');
    expect(cancelled).toMatchObject({ status: 'cancelled', progress: 0.4, lossHistory: [5, 4] });
    expect(await jobs.reportProgress(claimed, 0.5, [5, 4, 3])).toBe(false);
    expect(await succeed(claimed)).toBeNull();
    expect(await jobs.fail(claimed, 'boom')).toBe(false);
    expect(await jobs.handBack(claimed)).toBe(false);
    expect(registered).toBe(0);
    // The cancel is the last word, and it keeps what the run had shown.
    expect(await jobs.get('a')).toMatchObject({
      status: 'cancelled',
      progress: 0.4,
      lossHistory: [5, 4],
      modelVersion: null,
    });
    expect(await jobs.cancel('a')).toBeNull();
    expect(
      await metricLine('modeldock_training_jobs_total{model="house",status="cancelled"}'),
    ).toMatch(/ 1$/);
    expect(
      await metricLine(
        'modeldock_training_duration_seconds_count{model="house",outcome="cancelled"}',
      ),
    ).toMatch(/ 1$/);
  });

  it('succeeds with the version and the run summary in one transaction, and counts it once', async () => {
    const claimed = (await jobs.claim(await jobs.create(fields('a'))))!;
    const version = await succeed(claimed);
    expect(version?.version.version).toBe(1);
    expect(await jobs.get('a')).toMatchObject({
      status: 'succeeded',
      progress: 1,
      modelVersion: 1,
      lossHistory: [3, 2, 1],
      training: run.training,
    });
    expect(await succeed(claimed)).toBeNull();
    expect(registered).toBe(1);
    expect(
      await metricLine('modeldock_training_jobs_total{model="house",status="succeeded"}'),
    ).toMatch(/ 1$/);
    expect(
      await metricLine(
        'modeldock_training_duration_seconds_count{model="house",outcome="succeeded"}',
      ),
    ).toMatch(/ 1$/);
  });

  it('refuses every write of a stale runner once another one took the job over', async () => {
    const stale = (await jobs.claim(await jobs.create(fields('a'))))!;
    const current = (await jobs.claim(stale))!;
    expect(current.attempts).toBe(2);
    expect(await jobs.reportProgress(stale, 0.9, [1])).toBe(false);
    expect(await succeed(stale)).toBeNull();
    expect(await jobs.fail(stale, 'stale')).toBe(false);
    expect(await jobs.fail(current, 'diverged')).toBe(true);
    expect(await jobs.get('a')).toMatchObject({ status: 'failed', error: 'diverged', attempts: 2 });
  });

  it('hands a job back to the queue without using an attempt', async () => {
    const claimed = (await jobs.claim(await jobs.create(fields('a'))))!;
    await jobs.reportProgress(claimed, 0.3, [1]);
    expect(await jobs.handBack(claimed)).toBe(true);
    expect(await jobs.get('a')).toMatchObject({
      status: 'queued',
      attempts: 0,
      progress: 0,
      lossHistory: [],
      startedAt: null,
    });
    expect(await jobs.handBack(claimed)).toBe(false);
    expect((await jobs.nextQueued())?.id).toBe('a');
  });

  it('fails a job whose attempts are spent, unless it changed meanwhile', async () => {
    const claimed = (await jobs.claim(await jobs.create(fields('a'))))!;
    expect(await jobs.failUnclaimed({ ...claimed, attempts: 0 }, 'spent')).toBe(false);
    expect(await jobs.failUnclaimed(claimed, 'spent')).toBe(true);
    expect(await jobs.get('a')).toMatchObject({ status: 'failed', error: 'spent' });
  });

  it('marks only running jobs interrupted at start-up, and counts them', async () => {
    await jobs.claim(await jobs.create(fields('a', 'one')));
    await jobs.claim(await jobs.create(fields('b', 'two')));
    await jobs.create(fields('c'));
    expect(await jobs.markInterrupted('interrupted')).toBe(2);
    expect((await jobs.get('a'))?.status).toBe('failed');
    expect((await jobs.get('c'))?.status).toBe('queued');
    expect(await metricLine('modeldock_training_jobs_total{model="one",status="failed"}')).toMatch(
      / 1$/,
    );
  });

  it('reads queued and running jobs from the database for the gauges', async () => {
    await jobs.claim(await jobs.create(fields('a')));
    await jobs.create(fields('b'));
    await jobs.create(fields('c'));
    expect(await metricLine('modeldock_training_jobs_queued ')).toBe(
      'modeldock_training_jobs_queued 2',
    );
    expect(await metricLine('modeldock_training_jobs_running ')).toBe(
      'modeldock_training_jobs_running 1',
    );
    expect(await jobs.countActiveForDataset(fields('a').datasetId)).toBe(3);
    expect((await jobs.activeForModel('house', 2)).length).toBe(2);
    expect(await jobs.staleQueuedIds(new Date(Date.now() + 1000), 10)).toEqual(
      expect.arrayContaining(['b', 'c']),
    );
  });
});
