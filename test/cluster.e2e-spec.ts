import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { stickyDraw } from '../src/prediction/traffic-split';
import { lineDataset, wideDataset } from './support/fixtures';
import { requestJson, ServiceProcess, spawnService, SpawnOptions } from './support/service-process';
import { makeDataDir, removeDataDir } from './support/test-app';
import { databaseEnv, dropCreatedSchemas } from './support/test-database';

/**
 * Two API processes and two training workers on one PostgreSQL schema and one Redis: what a
 * Kubernetes deployment runs. Needs TEST_DATABASE_URL and TEST_REDIS_URL (.ci/run sets both).
 */
const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const missing = [!databaseUrl && 'TEST_DATABASE_URL', !redisUrl && 'TEST_REDIS_URL'].filter(
  Boolean,
);
if (missing.length > 0) {
  process.stderr.write(
    `cluster.e2e-spec: SKIPPED (two APIs and two workers on PostgreSQL and Redis): ${missing.join(' and ')} not set.\n`,
  );
}
const describeCluster = missing.length > 0 ? describe.skip : describe;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeCluster('two API processes and two workers on PostgreSQL and Redis', () => {
  let dataDir: string;
  const apis: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];
  let lineId: string;
  let wideId: string;

  const clusterEnv: Record<string, string> = {
    REDIS_URL: redisUrl ?? '',
    // A key space of this run's own: nothing to flush, nothing shared with another run.
    REDIS_KEY_PREFIX: `e2e-${randomBytes(6).toString('hex')}`,
    TRAINING_WORKER_LOCK_MS: '2000',
    TRAINING_JOB_ATTEMPTS: '2',
    TRAINING_PROGRESS_INTERVAL_MS: '50',
    RATE_LIMIT_PREDICT_PER_MINUTE: '40',
    // The test polls jobs with the admin key; management requests are not what it limits.
    RATE_LIMIT_MANAGEMENT_PER_MINUTE: '0',
  };
  const start = async (options: SpawnOptions = {}) =>
    spawnService(dataDir, {
      ...options,
      env: { ...(await databaseEnv(dataDir, { postgres: true })), ...clusterEnv, ...options.env },
    });
  const call = (api: ServiceProcess, method: string, url: string, body?: unknown, key?: string) =>
    requestJson(
      api.baseUrl,
      method,
      url,
      body,
      key ? { headers: { authorization: `Bearer ${key}` } } : {},
    );

  async function waitForJob(id: string, timeoutMs = 60_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await call(apis[0], 'GET', `/v1/training-jobs/${id}`);
      if (!['queued', 'running'].includes(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${body.status}`);
      await sleep(100);
    }
  }

  async function newKey(name: string, role: string): Promise<string> {
    const created = await call(apis[0], 'POST', '/v1/api-keys', { name, role });
    expect(created.status).toBe(201);
    return created.body.key as string;
  }

  /**
   * How long, in ms, until `servedVersion` answers `expected`: an alias moved on one API reaches
   * the other over Redis, so the other may answer the old version for a moment.
   */
  async function msUntilServed(
    servedVersion: () => Promise<number>,
    expected: number,
  ): Promise<number> {
    const startedAt = Date.now();
    let version = await servedVersion();
    while (version !== expected && Date.now() - startedAt < 5000) {
      await sleep(50);
      version = await servedVersion();
    }
    expect(version).toBe(expected);
    return Date.now() - startedAt;
  }

  /** A job that trains for a second or two on the wide table, so it can be caught running. */
  const longJob = (model: string) =>
    call(apis[1], 'POST', '/v1/training-jobs', {
      model,
      dataset: wideId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'gradient-descent', epochs: 40_000, learningRate: 0.001 },
      seed: 1,
    });

  async function waitUntilRunning(id: string, attempt = 1): Promise<any> {
    for (;;) {
      const { body } = await call(apis[0], 'GET', `/v1/training-jobs/${id}`);
      if (body.status === 'running' && body.attempts === attempt) return body;
      if (!['queued', 'running'].includes(body.status))
        throw new Error(`job ${id} is ${body.status}`);
      await sleep(20);
    }
  }

  beforeAll(async () => {
    dataDir = makeDataDir();
    await databaseEnv(dataDir, { postgres: true });
    // Both at once on the empty schema: one migrates while the other waits for its lock.
    apis.push(...(await Promise.all([start(), start()])));
    lineId = (await call(apis[0], 'POST', '/v1/datasets', lineDataset())).body.id;
    wideId = (await call(apis[0], 'POST', '/v1/datasets', wideDataset(60))).body.id;
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((service) => service.kill()));
    await dropCreatedSchemas();
    removeDataDir(dataDir);
  });

  it('runs a job on another worker when its worker is killed mid-job, and registers it once', async () => {
    workers.push(await start({ entry: 'worker' }));
    const submitted = await longJob('survivor');
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;
    // Only the first worker is up, so the job is running there: kill it mid-job, then start two
    // others; one of them finds the job stalled once its lock (2 s here) has expired.
    await waitUntilRunning(id);
    await workers[0].kill();
    workers[0] = await start({ entry: 'worker' });
    workers.push(await start({ entry: 'worker' }));

    const done = await waitForJob(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, modelVersion: 1, error: null });
    const versions = await call(apis[1], 'GET', '/v1/models/survivor/versions');
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([1]);
  }, 120_000);

  it('marks a job failed, saying why, when its workers die TRAINING_JOB_ATTEMPTS times', async () => {
    const [first, second] = workers.splice(0, 2);
    await second.kill();
    const id = (await longJob('doomed')).body.id as string;
    await waitUntilRunning(id, 1);
    await first.kill();
    const third = await start({ entry: 'worker' });
    await waitUntilRunning(id, 2);
    await third.kill();
    // The next worker to find it stalled sees both attempts spent.
    workers.push(await start({ entry: 'worker' }), await start({ entry: 'worker' }));
    const done = await waitForJob(id);
    expect(done).toMatchObject({ status: 'failed', attempts: 2, modelVersion: null });
    expect(done.error).toMatch(
      /worker running this job stopped .* attempt 2 of 2 \(TRAINING_JOB_ATTEMPTS\)/,
    );
    expect((await call(apis[0], 'GET', '/v1/models/doomed')).status).toBe(404);
  }, 120_000);

  it('shows progress from the worker and cancels from either API within a second', async () => {
    const id = (await longJob('cancelled-remotely')).body.id as string;
    let job = await waitUntilRunning(id);
    while (job.lossHistory.length === 0) {
      await sleep(50);
      job = (await call(apis[1], 'GET', `/v1/training-jobs/${id}`)).body;
    }
    expect(job.progress).toBeGreaterThan(0);
    const asked = Date.now();
    const cancelled = await call(apis[0], 'POST', `/v1/training-jobs/${id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', modelVersion: null });
    expect(Date.now() - asked).toBeLessThan(1000);
    // Longer than the job would have trained: it never comes back to life, nothing registers.
    await sleep(3000);
    expect((await call(apis[0], 'GET', `/v1/training-jobs/${id}`)).body.status).toBe('cancelled');
    expect((await call(apis[0], 'GET', '/v1/models/cancelled-remotely')).status).toBe(404);
  }, 120_000);

  it('turns 20 trainings submitted across both APIs into versions 1..20 exactly', async () => {
    const submitted = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(apis[i % 2], 'POST', '/v1/training-jobs', {
          model: 'fleet',
          dataset: lineId,
          target: 'y',
          algorithm: 'linear-regression',
          hyperparameters: { optimizer: 'normal-equation' },
          seed: i,
        }),
      ),
    );
    expect(submitted.map((response) => response.status)).toEqual(Array(20).fill(202));
    const finished = await Promise.all(submitted.map((response) => waitForJob(response.body.id)));
    expect(finished.map((job) => job.status)).toEqual(Array(20).fill('succeeded'));
    expect(finished.map((job) => job.modelVersion).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const versions = await call(apis[0], 'GET', '/v1/models/fleet/versions?limit=100');
    expect(versions.body.total).toBe(20);
    // Both workers took part.
    const served = await Promise.all(
      workers.map(async (worker) => (await fetch(`${worker.baseUrl}/metrics`)).text()),
    );
    for (const text of served) expect(text).toMatch(/modeldock_training_jobs_total\{model="fleet"/);
  }, 120_000);

  it('serves an alias moved on one API from the other within a second', async () => {
    const reader = await newKey('alias-reader', 'predictor');
    await call(apis[0], 'PUT', '/v1/models/fleet/aliases/production', { version: 3 });
    const servedByOther = async () =>
      (await call(apis[1], 'POST', '/v1/models/fleet/predict', { instances: [[1, 2]] }, reader))
        .body.version as number;
    expect(await msUntilServed(servedByOther, 3)).toBeLessThan(1000);

    const moved = await call(apis[0], 'PUT', '/v1/models/fleet/aliases/production', { version: 7 });
    expect(moved.status).toBe(200);
    expect(await msUntilServed(servedByOther, 7)).toBeLessThan(1000);
  });

  it('splits and mirrors an alias set on one API from the other within a second, one routing key one version on both', async () => {
    const reader = await newKey('rollout-reader', 'predictor');
    // A routing key the canary takes at weight 0.5, and one it does not.
    const keys = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    const onCanary = keys.find((key) => stickyDraw('fleet', key) < 0.5) as string;
    const onVersion = keys.find((key) => stickyDraw('fleet', key) >= 0.5) as string;
    const predictAs = (api: ServiceProcess, routingKey: string) =>
      requestJson(
        api.baseUrl,
        'POST',
        '/v1/models/fleet/predict',
        { instances: [[1, 2]] },
        {
          headers: { authorization: `Bearer ${reader}`, 'x-routing-key': routingKey },
        },
      );
    expect(
      (await call(apis[0], 'PUT', '/v1/models/fleet/aliases/production', { version: 3 })).status,
    ).toBe(200);
    const canaryOnOther = async () => (await predictAs(apis[1], onCanary)).body.version as number;
    expect(await msUntilServed(canaryOnOther, 3)).toBeLessThan(1000);

    const set = await call(apis[0], 'PUT', '/v1/models/fleet/aliases/production', {
      version: 3,
      canary: { version: 7, weight: 0.5 },
      shadow: { version: 5, fraction: 1 },
    });
    expect(set.status).toBe(200);
    expect(await msUntilServed(canaryOnOther, 7)).toBeLessThan(1000);
    for (const api of apis) {
      expect((await predictAs(api, onCanary)).body.version).toBe(7);
      expect((await predictAs(api, onVersion)).body.version).toBe(3);
    }
    // The other API mirrors to the shadow too.
    const shadow = await call(apis[1], 'GET', '/v1/models/fleet/aliases/production/shadow');
    expect(shadow.status).toBe(200);
    expect(shadow.body).toMatchObject({ shadowVersion: 5, fraction: 1, active: true });
    expect(shadow.body.count + shadow.body.errors).toBeGreaterThan(0);
    expect(
      (await call(apis[1], 'PUT', '/v1/models/fleet/aliases/production', { version: 3 })).status,
    ).toBe(200);
  });

  it('serves an ONNX model registered through one API from the other', async () => {
    const file = readFileSync(path.join(__dirname, 'fixtures', 'onnx', 'mlp.onnx'));
    const registered = await requestJson(
      apis[0].baseUrl,
      'POST',
      '/v1/models/onnx-fleet/versions?maxBatchSize=8',
      file,
      { headers: { 'content-type': 'application/octet-stream' } },
    );
    expect(registered.status).toBe(201);
    const reference = JSON.parse(
      readFileSync(path.join(__dirname, 'fixtures', 'onnx', 'reference.json'), 'utf8'),
    )['mlp.onnx'];
    const res = await call(apis[1], 'POST', '/v2/models/onnx-fleet/infer', {
      inputs: [{ name: 'x', ...reference.inputs.x }],
    });
    expect(res.status).toBe(200);
    const expected = reference.outputs.probabilities.data as number[];
    (res.body.outputs[0].data as number[]).forEach((value, i) =>
      expect(value).toBeCloseTo(expected[i], 5),
    );
  });

  it('refuses a key revoked on one API at the other within a second', async () => {
    const created = await call(apis[0], 'POST', '/v1/api-keys', { name: 'leaked', role: 'viewer' });
    const key = created.body.key as string;
    expect((await call(apis[1], 'GET', '/v1/models', undefined, key)).status).toBe(200);
    expect((await call(apis[0], 'DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 5000) {
      status = (await call(apis[1], 'GET', '/v1/models', undefined, key)).status;
      if (status === 200) await sleep(50);
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });

  it('counts one rate limit across both APIs', async () => {
    const key = await newKey('shared-limit', 'predictor');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      for (const api of apis) {
        statuses.push(
          (await call(api, 'POST', '/v1/models/fleet/predict', { instances: [[1, 2]] }, key))
            .status,
        );
      }
    }
    // 40 per minute in all: each API alone would have allowed all 30 of its requests.
    expect(statuses.filter((status) => status === 200)).toHaveLength(40);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  });

  it('has each process’s /metrics complete on its own', async () => {
    for (const api of apis) {
      const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
      expect(text).toMatch(/http_request_duration_seconds_count/);
      expect(text).toMatch(/process_resident_memory_bytes/);
      expect(text).toMatch(/modeldock_predictions_total\{model="fleet"/);
    }
  });
});
