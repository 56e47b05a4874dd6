import { ServiceProcess, requestJson, spawnService } from './support/service-process';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

describe('a service killed mid-job', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  let api: TestApp | undefined;

  beforeAll(() => {
    dataDir = makeDataDir();
  });

  afterAll(async () => {
    await service?.kill();
    await api?.close();
    removeDataDir(dataDir);
  });

  it('marks the running job failed (interrupted) and runs the queued one after a restart', async () => {
    service = await spawnService(dataDir);
    const base = service.baseUrl;
    const get = async (url: string): Promise<any> => (await requestJson(base, 'GET', url)).body;
    const post = async (url: string, body: unknown): Promise<any> =>
      (await requestJson(base, 'POST', url, body)).body;

    const features = Array.from({ length: 60 }, (_, j) => `f${j}`);
    const rows = Array.from({ length: 200 }, (_, i) => {
      const xs = features.map((_, j) => Math.sin(i * 0.7 + j) + ((i * j) % 5));
      return [...xs, xs.reduce((a, b) => a + b, 0)];
    });
    const dataset = await post('/v1/datasets', { name: 'wide', columns: [...features, 'y'], rows });
    const job = (hyperparameters: Record<string, unknown>) =>
      post('/v1/training-jobs', {
        model: 'survivor',
        dataset: dataset.id,
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters,
        seed: 1,
      });
    const long = await job({ optimizer: 'gradient-descent', epochs: 1_000_000 });
    const queued = await job({ optimizer: 'normal-equation' });
    for (;;) {
      const status = (await get(`/v1/training-jobs/${long.id}`)).status;
      if (status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await get(`/v1/training-jobs/${queued.id}`)).status).toBe('queued');

    await service.kill();

    api = await startApp(dataDir);
    const interrupted = await waitForJob(api, long.id);
    expect(interrupted).toMatchObject({ status: 'failed', modelVersion: null });
    expect(interrupted.error).toMatch(/interrupted/);
    const resumed = await waitForJob(api, queued.id);
    expect(resumed).toMatchObject({ status: 'succeeded', modelVersion: 1, error: null });
    const versions = await api.request('GET', '/v1/models/survivor/versions');
    expect(versions.body.total).toBe(1);
  });
});
