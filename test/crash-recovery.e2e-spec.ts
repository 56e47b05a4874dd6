import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const ROOT = path.join(__dirname, '..');

/** The service as its own process (TypeScript sources through ts-node), so it can be SIGKILLed. */
async function spawnService(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('service did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a service killed mid-job', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let api: TestApp | undefined;

  beforeAll(() => {
    dataDir = makeDataDir();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await api?.close();
    removeDataDir(dataDir);
  });

  it('marks the running job failed (interrupted) and runs the queued one after a restart', async () => {
    const port = 41000 + Math.floor(Math.random() * 2000);
    child = await spawnService(dataDir, port);
    const base = `http://127.0.0.1:${port}`;
    const get = async (url: string): Promise<any> => (await fetch(base + url)).json();
    const post = async (url: string, body: unknown): Promise<any> =>
      (
        await fetch(base + url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json();

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

    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));

    api = await startApp(dataDir);
    const interrupted = await waitForJob(api, long.id);
    expect(interrupted).toMatchObject({ status: 'failed', modelVersion: null });
    expect(interrupted.error).toMatch(/interrupted/);
    const resumed = await waitForJob(api, queued.id);
    expect(resumed).toMatchObject({ status: 'succeeded', modelVersion: 1 });
    const versions = await api.request('GET', '/v1/models/survivor/versions');
    expect(versions.body.total).toBe(1);
  });
});
