// npm run bench:scale — what the distributed path (PostgreSQL, Redis, worker processes) costs on
// this machine, as ratios to baselines measured in the same run (the machine is shared and noisy):
// 1. single-row v1 predict at 32 connections: embedded SQLite (the baseline), PostgreSQL, and
//    PostgreSQL + Redis (rate limits counted in Redis, and with limits off), one process each; then
//    2 API processes against 1 behind the same kind of round-robin proxy (this file run as
//    `scale.js proxy <upstream>...`: node:http with a keep-alive agent). The sides take turns,
//    round after round, each round starting one side later (1 s warm-up + the measured run); each
//    ratio is the median of the rounds' ratios, as in bench/serve.ts.
// 2. training throughput: JOBS small linear-regression jobs posted at once, timed until all have
//    succeeded: the embedded runner (SQLite), 1 worker process and 2 (PostgreSQL + Redis). Every
//    model's versions must be exactly 1..JOBS.
// PostgreSQL gets two fresh schemas, dropped at the end; Redis gets its own database, flushed at
// the start and at the end (the queue name is fixed). Exits 1 when a target fails or any request
// or job does.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { cpus } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Random } from '../src/ml';
import { BENCH_MODEL, predictRows } from './bare-fastify-server';
import {
  AUTH_HEADERS,
  call,
  cpuSeconds,
  load,
  LoadResult,
  progress,
  ROOT,
  seconds,
  Service,
  startService,
} from './support';

const CONNECTIONS = Number(process.env.SCALE_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.SCALE_SECONDS ?? 4);
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? 5);
const JOBS = Number(process.env.SCALE_JOBS ?? 24);
const WARM_UP_SECONDS = 1;
const DATASET_ROWS = 5000;
const DATABASE_URL = process.env.SCALE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Database 15, not 0: flushing it leaves anything else on this Redis alone. */
const REDIS_URL = process.env.SCALE_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const MODEL = 'scale-linear';
const FEATURES = BENCH_MODEL.coefficients.length;
const TRAINING = {
  algorithm: 'linear-regression',
  target: 'y',
  validationSplit: 0.2,
  hyperparameters: { optimizer: 'adam', epochs: 300, batchSize: 64, patience: 0 },
};
const POSTGRES_TARGET = 0.9;
const NO_LIMITS = { RATE_LIMIT_PREDICT_PER_MINUTE: '0', RATE_LIMIT_MANAGEMENT_PER_MINUTE: '0' };

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A port nothing listens on right now, chosen by the OS. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ---- processes: API services come from support.ts; workers and proxies from here

interface Proc {
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

/** Runs `node <args>` with a free PORT and waits until its /health/ready answers 200. */
async function startNode(args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  const ready = () =>
    fetch(`${baseUrl}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
  while (!(await ready())) {
    if (child.exitCode !== null) throw new Error(`${args[0]} exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${args[0]} was not ready in 30 s`);
    }
    await sleep(100);
  }
  return { baseUrl, pid: child.pid!, stop };
}

/** This file run as `proxy <upstream>...`: listens on PORT, forwards round-robin. */
function runProxy(upstreams: URL[]): void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let next = 0;
  const server = http.createServer((request, response) => {
    const target = upstreams[next++ % upstreams.length];
    const forward = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forward.once('error', () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    request.pipe(forward);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => process.exit(0));
}

// ---- 1. predict throughput

interface Side {
  name: string;
  url: string;
  /** Every process serving it (proxy and APIs): CPU time per request is summed over them. */
  pids: number[];
  results: LoadResult[];
  cpuPerRequest: number[];
  warmUpErrors: number;
  failure?: string;
}

const ROW = [Array.from({ length: FEATURES }, (_, j) => Number((j / 3 - 1.5).toFixed(6)))];
const BODY = JSON.stringify({ instances: ROW });
const EXPECTED = predictRows(BENCH_MODEL, ROW)[0];

/** One predict: status 200 and the model's answer; the problem otherwise. */
async function check(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH_HEADERS },
      body: BODY,
    });
    const text = await response.text();
    if (response.status !== 200) return `HTTP ${response.status}: ${text.slice(0, 160)}`;
    const got = JSON.parse(text).predictions?.[0];
    return Math.abs(got - EXPECTED) <= 1e-9 ? undefined : `predicted ${got}, not ${EXPECTED}`;
  } catch (error) {
    return message(error);
  }
}

function side(name: string, baseUrl: string, pids: number[]): Side {
  const url = `${baseUrl}/v1/models/${MODEL}/predict`;
  return { name, url, pids, results: [], cpuPerRequest: [], warmUpErrors: 0 };
}

const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

/** Checks each side, then drives them in turn, ROUNDS times (warm-up, then the measured run). */
async function measureRounds(sides: Side[]): Promise<void> {
  for (const s of sides) {
    s.failure = await check(s.url);
    if (s.failure) progress(`${s.name}: check failed: ${s.failure}`);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    // Each round starts one side later, so that no side always follows the same one.
    const order = sides.map((_, i) => sides[(i + round - 1) % sides.length]);
    for (const s of order.filter((s) => !s.failure)) {
      const options = { connections: CONNECTIONS };
      s.warmUpErrors += (await load(s.url, BODY, { ...options, seconds: WARM_UP_SECONDS })).errors;
      const cpuBefore = cpuOf(s.pids);
      const result = await load(s.url, BODY, { ...options, seconds: SECONDS });
      s.cpuPerRequest.push(((cpuOf(s.pids) - cpuBefore) * 1e6) / Math.max(1, result.requests));
      s.results.push(result);
      progress(
        `round ${round}/${ROUNDS} ${s.name}: ${integer(result.requestsPerSecond)} req/s, ` +
          `p99 ${result.p99} ms, ${result.errors} errors`,
      );
    }
  }
}

const errorsOf = (s: Side) => s.warmUpErrors + s.results.reduce((sum, r) => sum + r.errors, 0);
const ok = (s: Side) => !s.failure && s.results.length > 0 && errorsOf(s) === 0;

// ---- 2. training throughput

/** DATASET_ROWS rows of FEATURES features and y = the bench model + noise, as a JSON upload. */
function datasetBody(name: string): string {
  const random = new Random(2024);
  const uniform = () => random.nextUint32() / 2 ** 32;
  const rows = Array.from({ length: DATASET_ROWS }, () => {
    const x = Array.from({ length: FEATURES }, () => Number((uniform() * 4 - 2).toFixed(6)));
    return [...x, Number((predictRows(BENCH_MODEL, [x])[0] + uniform() - 0.5).toFixed(6))];
  });
  const columns = [...Array.from({ length: FEATURES }, (_, j) => `x${j}`), 'y'];
  return JSON.stringify({ name, columns, rows });
}

interface Batch {
  ms: number;
  /** The median job's startedAt → finishedAt. */
  jobMs: number;
  problems: string[];
}

/** Posts JOBS jobs for `model` at once; the time until every one has finished, and what failed. */
async function trainBatch(api: Proc, dataset: string, model: string): Promise<Batch> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      call(api.baseUrl, 'POST', '/v1/training-jobs', { ...TRAINING, dataset, model, seed: i }),
    ),
  );
  const listJobs = `/v1/training-jobs?model=${model}&limit=500`;
  const finished = (jobs: any[]) =>
    jobs.every((job) => !['queued', 'running'].includes(job.status)) ||
    performance.now() - started > 300_000;
  let jobs: any[] = (await call(api.baseUrl, 'GET', listJobs)).items;
  while (!finished(jobs)) {
    await sleep(20);
    jobs = (await call(api.baseUrl, 'GET', listJobs)).items;
  }
  const ms = performance.now() - started;
  const problems = jobs
    .filter((job) => job.status !== 'succeeded')
    .map((job) => `job ${job.id} ${job.status}: ${job.error ?? ''}`);
  if (jobs.length !== JOBS) problems.push(`${jobs.length} jobs listed, not ${JOBS}`);
  const versions = (await call(api.baseUrl, 'GET', `/v1/models/${model}/versions?limit=500`)).items
    .map((v: any) => v.version as number)
    .sort((a: number, b: number) => a - b);
  if (versions.join() !== Array.from({ length: JOBS }, (_, i) => i + 1).join()) {
    problems.push(`${model} versions are ${versions.join(',')}, not 1..${JOBS}`);
  }
  const jobMs = median(jobs.map((job) => Date.parse(job.finishedAt) - Date.parse(job.startedAt)));
  return { ms, jobMs, problems };
}

// ---- the run

interface Env {
  pg: Record<string, string>;
  cluster: Record<string, string>;
}

async function setUpStores(): Promise<{ env: Env; tearDown(): Promise<void> }> {
  const base = `bench_scale_${randomBytes(4).toString('hex')}`;
  const schemas = { pg: `${base}_pg`, cluster: `${base}_cluster` };
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  for (const schema of Object.values(schemas))
    await pg.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  return {
    env: {
      pg: { DATABASE_URL, DATABASE_SCHEMA: schemas.pg },
      cluster: { DATABASE_URL, DATABASE_SCHEMA: schemas.cluster, REDIS_URL },
    },
    tearDown: async () => {
      for (const schema of Object.values(schemas)) {
        await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
      await pg.end();
      await redis.flushdb();
      redis.disconnect();
    },
  };
}

const ARTIFACT = {
  format: 'modeldock/v1',
  algorithm: 'linear-regression',
  inputs: BENCH_MODEL.coefficients.map((_, j) => ({ name: `x${j}`, type: 'number' })),
  output: { name: 'y', type: 'number' },
  coefficients: BENCH_MODEL.coefficients,
  intercept: BENCH_MODEL.intercept,
};

const register = (api: Proc) =>
  call(api.baseUrl, 'POST', `/v1/models/${MODEL}/versions`, {
    artifact: ARTIFACT,
    alias: 'production',
  });

async function run(env: Env, procs: Proc[]) {
  const start = async (extra: Record<string, string>) => {
    const service: Service = await startService(await freePort(), extra);
    procs.push({ ...service, stop: async () => (await service.stop(), service.removeData()) });
    return service;
  };
  const startWorker = async () => {
    const worker = await startNode(
      [path.join(ROOT, 'dist', 'src', 'worker-process.js')],
      env.cluster,
    );
    procs.push(worker);
    return worker;
  };
  progress('starting: SQLite, PostgreSQL, PostgreSQL + Redis (×3: limits on, off, a 2nd replica)');
  const sqlite = await start({});
  const postgres = await start(env.pg);
  // One at a time: the first runs the migrations on the shared schema.
  const cluster = await start(env.cluster);
  const clusterNoLimits = await start({ ...env.cluster, ...NO_LIMITS });
  const replica = await start(env.cluster);
  for (const api of [sqlite, postgres, cluster]) await register(api);
  const proxy = (apis: Proc[]) =>
    startNode([__filename, 'proxy', ...apis.map((api) => api.baseUrl)]).then((p) => {
      procs.push(p);
      return p;
    });
  const proxyOne = await proxy([cluster]);
  const proxyTwo = await proxy([cluster, replica]);

  const sides = {
    sqlite: side('a. SQLite embedded, 1 process', sqlite.baseUrl, [sqlite.pid]),
    postgres: side('b. PostgreSQL, 1 process', postgres.baseUrl, [postgres.pid]),
    cluster: side('c. PostgreSQL + Redis, 1 process', cluster.baseUrl, [cluster.pid]),
    noLimits: side('c. PostgreSQL + Redis, 1 process, rate limits off', clusterNoLimits.baseUrl, [
      clusterNoLimits.pid,
    ]),
    proxyOne: side('d. proxy → 1 API process (PG + Redis)', proxyOne.baseUrl, [
      proxyOne.pid,
      cluster.pid,
    ]),
    proxyTwo: side('d. proxy → 2 API processes (PG + Redis)', proxyTwo.baseUrl, [
      proxyTwo.pid,
      cluster.pid,
      replica.pid,
    ]),
  };
  await measureRounds(Object.values(sides));

  progress(`training: ${JOBS} jobs per batch on ${integer(DATASET_ROWS)} rows × ${FEATURES}`);
  const sqliteData = (await call(sqlite.baseUrl, 'POST', '/v1/datasets', datasetBody('scale'))).id;
  const clusterData = (await call(cluster.baseUrl, 'POST', '/v1/datasets', datasetBody('scale')))
    .id;
  const training = { embedded: [] as Batch[], one: [] as Batch[], two: [] as Batch[] };
  const record = (key: keyof typeof training, round: number, batch: Batch) => {
    training[key].push(batch);
    const problem = batch.problems.length ? ` — ${batch.problems[0]}` : '';
    progress(
      `round ${round}/${ROUNDS} training, ${key}: ${seconds(batch.ms)} ` +
        `(${(JOBS / (batch.ms / 1000)).toFixed(1)} jobs/s)${problem}`,
    );
  };
  const workers = [await startWorker()];
  for (let round = 1; round <= ROUNDS; round++) {
    record('embedded', round, await trainBatch(sqlite, sqliteData, `train-embedded-${round}`));
    if (workers.length > 1) await workers.pop()!.stop();
    record('one', round, await trainBatch(cluster, clusterData, `train-1w-${round}`));
    workers.push(await startWorker());
    record('two', round, await trainBatch(cluster, clusterData, `train-2w-${round}`));
  }
  return { sides, training };
}

// ---- the report

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** Against `vs`: the median of the rounds' req/s ratios and of their CPU-per-request ratios. */
function predictRow(s: Side, vs?: { side: Side; label: string; target?: number }): string[] {
  const m = (read: (r: LoadResult) => number) => median(s.results.map(read));
  const measured = s.results.length
    ? [integer(m((r) => r.requestsPerSecond)), String(m((r) => r.p50)), String(m((r) => r.p99))]
    : ['—', '—', '—'];
  const cpu = s.cpuPerRequest.length ? integer(median(s.cpuPerRequest)) : '—';
  const errors = s.failure ? `check failed: ${s.failure}` : String(errorsOf(s));
  const byRound = (read: (s: Side, round: number) => number) =>
    median(s.results.map((_, round) => read(s, round) / read(vs!.side, round)));
  const ratio =
    vs && ok(s) && ok(vs.side) ? byRound((x, i) => x.results[i].requestsPerSecond) : undefined;
  const cpuRatio = ratio === undefined ? undefined : byRound((x, i) => x.cpuPerRequest[i]);
  const shown = !vs
    ? 'baseline'
    : ratio === undefined
      ? 'n/a'
      : `${ratio.toFixed(2)}× ${vs.label} (CPU/req ${cpuRatio!.toFixed(2)}×)`;
  const target = vs?.target === undefined ? '' : `≥ ${vs.target}× ${vs.label}`;
  const pass = ok(s) && (vs?.target === undefined || (ratio ?? 0) >= vs.target);
  return [
    s.name,
    ...measured,
    cpu,
    errors,
    shown,
    target,
    pass ? (target ? 'PASS' : 'INFO') : 'FAIL',
  ];
}

function report({ sides, training }: Awaited<ReturnType<typeof run>>): string[] {
  const a = { side: sides.sqlite, label: '(a)' };
  const rows: string[][] = [
    predictRow(sides.sqlite),
    predictRow(sides.postgres, { ...a, target: POSTGRES_TARGET }),
    predictRow(sides.cluster, a),
    predictRow(sides.noLimits, a),
    predictRow(sides.proxyOne, { side: sides.cluster, label: 'c, no proxy' }),
    predictRow(sides.proxyTwo, { side: sides.proxyOne, label: 'proxy → 1' }),
  ];
  const jobsPerSecond = (b: Batch) => JOBS / (b.ms / 1000);
  const trainRow = (name: string, batches: Batch[], vs?: { batches: Batch[]; label: string }) => {
    const problems = batches.flatMap((b) => b.problems);
    const ratio =
      vs && median(batches.map((b, i) => jobsPerSecond(b) / jobsPerSecond(vs.batches[i])));
    return [
      name,
      seconds(median(batches.map((b) => b.ms))),
      median(batches.map(jobsPerSecond)).toFixed(1),
      `${median(batches.map((b) => b.jobMs)).toFixed(0)} ms`,
      problems.length ? `${problems.length}: ${problems[0]}` : '0',
      vs ? `${ratio!.toFixed(2)}× ${vs.label}` : 'baseline',
      problems.length ? 'FAIL' : 'INFO',
    ];
  };
  const trainRows = [
    trainRow('embedded runner (SQLite), 1 thread', training.embedded),
    trainRow('1 worker process (PG + Redis)', training.one, {
      batches: training.embedded,
      label: 'embedded',
    }),
    trainRow('2 worker processes (PG + Redis)', training.two, {
      batches: training.one,
      label: '1 worker',
    }),
  ];
  const failed = [...rows, ...trainRows].filter((row) => row.at(-1) === 'FAIL');
  process.exitCode = failed.length ? 1 : 0;
  return [
    `ModelDock scale benchmark — \`npm run bench:scale\`, ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} cores, shared (every process, PostgreSQL, Redis and the load generator on them).`,
    '',
    `Single-row v1 predict, autocannon at ${CONNECTIONS} connections, ${ROUNDS} rounds of ` +
      `${WARM_UP_SECONDS} s warm-up + ${SECONDS} s per side, taking turns; medians over the rounds, ` +
      `ratios the median of each round's ratio. Server CPU sums every process serving the side.`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | errors | ratio | target | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
    `Training: ${JOBS} linear-regression jobs (adam, ${TRAINING.hyperparameters.epochs} epochs, ` +
      `${integer(DATASET_ROWS)} rows × ${FEATURES}) posted at once, until all succeeded; TRAINING_CONCURRENCY=1; ` +
      `medians over ${ROUNDS} rounds; versions checked to be 1..${JOBS}.`,
    '',
    '| runner | time for all jobs | jobs/s | median job run time | problems | ratio | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...trainRows.map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
    failed.length ? `FAILED: ${failed.map((row) => row[0]).join('; ')}` : 'No errors; targets met.',
  ];
}

async function main(): Promise<void> {
  const stores = await setUpStores();
  const procs: Proc[] = [];
  try {
    const results = await run(stores.env, procs);
    process.stdout.write(report(results).join('\n') + '\n');
  } finally {
    for (const proc of procs.reverse()) await proc.stop();
    await stores.tearDown();
  }
}

if (process.argv[2] === 'proxy') runProxy(process.argv.slice(3).map((url) => new URL(url)));
else {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench:scale failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
}
