import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { wideDataset } from './support/fixtures';
import { requestJson, ServiceProcess, spawnService } from './support/service-process';
import { authHeaders, makeDataDir, removeDataDir } from './support/test-app';

const DRAIN_MS = 600;
const GRACE_MS = 5000;

describe('graceful shutdown on SIGTERM', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(() => {
    dataDir = makeDataDir();
  });

  afterAll(async () => {
    await service?.kill();
    removeDataDir(dataDir);
  });

  it('turns readiness 503 at once, finishes in-flight requests, hands the running job back and exits 0', async () => {
    service = await spawnService(dataDir, {
      env: {
        SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_MS),
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        TRAINING_PROGRESS_INTERVAL_MS: '50',
      },
    });
    const { baseUrl, child } = service;
    const dataset = await requestJson(baseUrl, 'POST', '/v1/datasets', wideDataset());
    const job = await requestJson(baseUrl, 'POST', '/v1/training-jobs', {
      model: 'long',
      dataset: dataset.body.id,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'gradient-descent', epochs: 1_000_000 },
    });
    while (
      (await requestJson(baseUrl, 'GET', `/v1/training-jobs/${job.body.id}`)).body.status !==
      'running'
    ) {
      await sleep(20);
    }

    // An upload whose body is still arriving when SIGTERM comes: in flight throughout.
    const csv =
      'a,b,y\n' + Array.from({ length: 100 }, (_, i) => `${i},${2 * i},${3 * i}`).join('\n');
    const url = new URL(baseUrl);
    const upload = http.request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/v1/datasets?name=late',
      headers: {
        ...authHeaders(),
        'content-type': 'text/csv',
        'content-length': Buffer.byteLength(csv),
      },
    });
    const uploaded = new Promise<{ status: number; body: string }>((resolve, reject) => {
      upload.on('response', (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      upload.on('error', reject);
    });
    upload.write(csv.slice(0, 10));
    await sleep(100);

    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const signalled = Date.now();
    child.kill('SIGTERM');
    await sleep(100);

    const ready = await fetch(`${baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).error.shutdown.message).toMatch(/shutting down/);
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    // Still serving while load balancers catch up.
    expect((await requestJson(baseUrl, 'GET', '/v1/models')).status).toBe(200);

    // Past the drain delay the listener is closed, but the upload in flight finishes.
    await sleep(DRAIN_MS + 300);
    upload.end(csv.slice(10));
    const answer = await uploaded;
    expect(answer.status).toBe(201);

    expect(await exited).toBe(0);
    // Done once the last request is: not held open by idle keep-alive connections until the grace.
    expect(Date.now() - signalled).toBeLessThan(DRAIN_MS + GRACE_MS / 2);
    service = undefined;

    // The next start finds the job handed back, not failed: it runs again from scratch in the new
    // process (it may even have finished by now), and registers its version once.
    service = await spawnService(dataDir);
    const { baseUrl: next } = service;
    let after = (await requestJson(next, 'GET', `/v1/training-jobs/${job.body.id}`)).body;
    while (after.status === 'queued') {
      await sleep(20);
      after = (await requestJson(next, 'GET', `/v1/training-jobs/${job.body.id}`)).body;
    }
    expect(after.error).toBeNull();
    expect(Date.parse(after.startedAt)).toBeGreaterThanOrEqual(service.spawnedAt);
    if (after.status === 'running') {
      const cancelled = await requestJson(next, 'POST', `/v1/training-jobs/${job.body.id}/cancel`);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', modelVersion: null });
    } else {
      expect(after).toMatchObject({ status: 'succeeded', modelVersion: 1 });
      expect((await requestJson(next, 'GET', '/v1/models/long/versions')).body.total).toBe(1);
    }
    const late = JSON.parse(answer.body);
    expect((await requestJson(next, 'GET', `/v1/datasets/${late.id}`)).body).toMatchObject({
      name: 'late',
      rowCount: 100,
    });
  });
});
