// npm run bench:train — end-to-end training time on 1,000,000 × 20 against scikit-learn's fit on
// the same data in the same run, peak RSS during the job, and predict latency while a job runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Random } from '../src/ml';
import {
  call,
  load,
  mib,
  progress,
  ROOT,
  rssBytes,
  runPython,
  sampleRss,
  seconds,
  Service,
  startService,
} from './support';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const FEATURES = 20;
const PORT = Number(process.env.BENCH_PORT ?? 3111);
const SEED = 2024;

interface Synthetic {
  x: Float64Array; // row-major ROWS × FEATURES
  regression: Float64Array;
  classes: Float64Array;
}

function synthesize(): Synthetic {
  const random = new Random(SEED);
  const uniform = () => (random.nextUint32() + 0.5) / 4294967296;
  // Box–Muller on the seeded uniform generator.
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const weights = Array.from({ length: FEATURES }, (_, j) => (j % 2 ? -1 : 1) * (0.5 + j / 10));
  const x = new Float64Array(ROWS * FEATURES);
  const regression = new Float64Array(ROWS);
  const classes = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    let signal = 0;
    for (let j = 0; j < FEATURES; j++) {
      const value = normal();
      x[i * FEATURES + j] = value;
      signal += weights[j] * value;
    }
    regression[i] = 3 + signal + normal();
    classes[i] = signal / 4 + normal() > 0 ? 1 : 0;
  }
  return { x, regression, classes };
}

/** The table as a JSON dataset upload (`columns` + `rows`), 6 decimals like a typical export. */
function datasetBody(name: string, data: Synthetic, target: Float64Array): string {
  const columns = [...Array.from({ length: FEATURES }, (_, j) => `x${j}`), 'y'];
  const parts: string[] = [`{"name":"${name}","columns":${JSON.stringify(columns)},"rows":[`];
  for (let i = 0; i < ROWS; i++) {
    const row: string[] = [];
    for (let j = 0; j < FEATURES; j++) row.push(data.x[i * FEATURES + j].toFixed(6));
    row.push(target === data.classes ? String(target[i]) : target[i].toFixed(6));
    parts.push(`${i ? ',' : ''}[${row.join(',')}]`);
  }
  parts.push(']}');
  return parts.join('');
}

/** The same values (rounded as uploaded) as raw float64 files for scikit-learn. */
function writeForPython(data: Synthetic): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-sklearn-'));
  const round = (values: Float64Array) => Float64Array.from(values, (v) => Number(v.toFixed(6)));
  writeFileSync(path.join(dir, 'x.f64'), round(data.x));
  writeFileSync(path.join(dir, 'regression.f64'), round(data.regression));
  writeFileSync(path.join(dir, 'classes.f64'), data.classes);
  return dir;
}

async function waitForJob(service: Service, id: string): Promise<any> {
  for (;;) {
    const job = await call(service.baseUrl, 'GET', `/v1/training-jobs/${id}`);
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Queued → succeeded as a client sees it, with the service's peak RSS meanwhile. */
async function timeJob(service: Service, request: Record<string, unknown>) {
  const rss = sampleRss(service.pid);
  const started = performance.now();
  const created = await call(service.baseUrl, 'POST', '/v1/training-jobs', request);
  const job = await waitForJob(service, created.id);
  const elapsed = performance.now() - started;
  if (job.status !== 'succeeded') throw new Error(`job ${job.id} ${job.status}: ${job.error}`);
  return { elapsed, peakRss: rss.stop(), job };
}

const ratio = (ours: number, theirs: number | undefined) =>
  theirs === undefined ? 'n/a (no scikit-learn)' : `${(ours / theirs).toFixed(2)}×`;

async function main(): Promise<void> {
  progress(`generating ${ROWS.toLocaleString()} rows × ${FEATURES} features`);
  const data = synthesize();
  const pythonDir = writeForPython(data);

  progress('scikit-learn fit times on the same data (when /usr/bin/python3 has sklearn)');
  const sklearnOutput = runPython(path.join(ROOT, 'bench', 'sklearn_fit.py'), [
    pythonDir,
    String(ROWS),
    String(FEATURES),
  ]);
  rmSync(pythonDir, { recursive: true, force: true });
  const sklearn = sklearnOutput
    ? (JSON.parse(sklearnOutput) as Record<
        'linear' | 'logistic' | 'logisticDefault',
        { seconds: number; score: number; iterations?: number }
      >)
    : undefined;

  // Upload, then restart: jobs are measured in a service that did not just parse 400 MB of JSON,
  // as after a deploy.
  const env = { DATASET_BODY_LIMIT_BYTES: String(1024 ** 3) };
  let service = await startService(PORT, env);
  const datasets: Record<string, string> = {};
  for (const [name, target] of [
    ['bench-regression', data.regression],
    ['bench-classification', data.classes],
  ] as const) {
    progress(`uploading ${name} (JSON rows)`);
    const started = performance.now();
    datasets[name] = (
      await call(service.baseUrl, 'POST', '/v1/datasets', datasetBody(name, data, target))
    ).id;
    progress(`  ${seconds(performance.now() - started)}`);
  }
  await service.stop();
  service = await startService(PORT, env, service.dataDir);
  const idleRss = rssBytes(service.pid);

  const regression = {
    dataset: datasets['bench-regression'],
    target: 'y',
    validationSplit: 0,
    seed: 1,
  };
  progress('linear-regression, normal equation');
  const normal = await timeJob(service, {
    ...regression,
    model: 'bench-normal',
    algorithm: 'linear-regression',
    hyperparameters: { optimizer: 'normal-equation' },
    alias: 'production',
  });
  progress('linear-regression, adam, 20 epochs');
  const adam = await timeJob(service, {
    ...regression,
    model: 'bench-adam',
    algorithm: 'linear-regression',
    hyperparameters: { optimizer: 'adam', epochs: 20, batchSize: 256, learningRate: 0.01 },
  });
  progress('logistic-regression, lbfgs');
  const logistic = await timeJob(service, {
    dataset: datasets['bench-classification'],
    target: 'y',
    validationSplit: 0,
    seed: 1,
    model: 'bench-logistic',
    algorithm: 'logistic-regression',
  });

  progress('predict latency, idle and while a training job runs');
  const predictUrl = `${service.baseUrl}/v1/models/bench-normal/predict`;
  const body = JSON.stringify({ instances: [Array.from({ length: FEATURES }, (_, j) => j / 10)] });
  const loadOptions = { connections: 8, seconds: 5 };
  await load(predictUrl, body, { connections: 8, seconds: 1 }); // warm-up
  const idle = await load(predictUrl, body, loadOptions);
  const busyJob = await call(service.baseUrl, 'POST', '/v1/training-jobs', {
    ...regression,
    model: 'bench-busy',
    algorithm: 'linear-regression',
    hyperparameters: { optimizer: 'adam', epochs: 1000, batchSize: 256 },
  });
  while (
    (await call(service.baseUrl, 'GET', `/v1/training-jobs/${busyJob.id}`)).status !== 'running'
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const busy = await load(predictUrl, body, loadOptions);
  const stillRunning = (await call(service.baseUrl, 'GET', `/v1/training-jobs/${busyJob.id}`))
    .status;
  await call(service.baseUrl, 'POST', `/v1/training-jobs/${busyJob.id}/cancel`);
  await service.stop();
  service.removeData();

  const rows = ROWS.toLocaleString();
  const lines = [
    `ModelDock training benchmark: ${rows} rows × ${FEATURES} features, validationSplit 0, end to end (POST → succeeded)`,
    '',
    `| job | ModelDock | scikit-learn fit | ratio | target |`,
    `| --- | --- | --- | --- | --- |`,
    `| linear-regression, normal equation (r2 ${normal.job.metrics.train.r2.toFixed(4)}) | ${seconds(normal.elapsed)} | ${sklearn ? seconds(sklearn.linear.seconds * 1000) + ` (r2 ${sklearn.linear.score.toFixed(4)})` : 'n/a'} | ${ratio(normal.elapsed, sklearn && sklearn.linear.seconds * 1000)} | ≤ 0.5× |`,
    `| logistic-regression, lbfgs, ${logistic.job.training.epochsRun} iterations (accuracy ${logistic.job.metrics.train.accuracy.toFixed(4)}) | ${seconds(logistic.elapsed)} | ${sklearn ? seconds(sklearn.logistic.seconds * 1000) + `, ${sklearn.logistic.iterations} iterations (accuracy ${sklearn.logistic.score.toFixed(4)})` : 'n/a'} | ${ratio(logistic.elapsed, sklearn && sklearn.logistic.seconds * 1000)} | ≤ 1.0× |`,
    `| linear-regression, adam, 20 epochs (r2 ${adam.job.metrics.train.r2.toFixed(4)}) | ${seconds(adam.elapsed)} | | ${((adam.elapsed / 1000) * (1e6 / ROWS)).toFixed(2)} s per million rows | ≤ 2 s per million rows |`,
    '',
    'Logistic: both stop when max |gradient of the mean log loss| ≤ 1e-4 (ModelDock tolerance 1e-4; scikit-learn LogisticRegression(tol=1e-4 × rows), since scikit-learn 1.2 sums the loss).' +
      (sklearn
        ? ` scikit-learn's default LogisticRegression() (tol 1e-4 on the summed loss, or scipy's ftol): ${seconds(sklearn.logisticDefault.seconds * 1000)}, ${sklearn.logisticDefault.iterations} iterations (accuracy ${sklearn.logisticDefault.score.toFixed(4)}).`
        : ''),
    `Service RSS: ${mib(idleRss)} idle after restart; peak during the jobs: normal equation ${mib(normal.peakRss)}, adam ${mib(adam.peakRss)}, logistic ${mib(logistic.peakRss)} (target < 1024 MiB).`,
    `Predict (single row, ${loadOptions.connections} connections, ${loadOptions.seconds} s): idle p99 ${idle.p99} ms (${Math.round(idle.requestsPerSecond)} req/s); ` +
      `with a training job running (${stillRunning} at the end) p99 ${busy.p99} ms (${Math.round(busy.requestsPerSecond)} req/s): ` +
      `${(busy.p99 / Math.max(idle.p99, 1e-9)).toFixed(2)}× idle (target ≤ 1.5×). Errors: ${idle.errors + busy.errors}.`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:train failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
