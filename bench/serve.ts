// npm run bench:serve — prediction throughput, latency and memory of the production build at the
// defaults a user gets, as ratios to baselines measured in the same run (the machine is shared
// and noisy, so absolute figures alone say little):
// - bare Fastify answering the same linear model (bench/bare-fastify-server.ts): the ceiling for
//   a Node HTTP JSON endpoint;
// - Flask + numpy under gunicorn with 2 workers (bench/flask_app.py), the typical Python model
//   server, when /usr/bin/python3 has flask and numpy and gunicorn is installed (gthread workers
//   with 1 thread: one request at a time per process like the default sync worker, with
//   keep-alive).
// ModelDock runs as `npm start` runs it: NODE_ENV=production, LOG_LEVEL=info (its JSON log to a
// file, as a container runtime would take it), an API key on every request, rate limits,
// metrics, security headers, overload protection, the prediction log at its default sampling.
// The only change is the per-key predict rate limit, raised so that it counts but never refuses.
// Scenarios: single-row v1 predict and its p99, a 10,000-row batch, the Open Inference Protocol
// (V2) infer route, single rows spread over 1,000 registered models, the service's RSS. wrk
// (`apt-get install wrk`; a load generator in JS takes the CPU the server needs on two cores)
// drives every side alike (bench/wrk.ts); the sides of a comparison take turns, round after
// round, and a ratio is the median of the rounds' ratios. Each scenario is first checked with one
// request (status 200, the numbers of predictRows). Exits 1 when a target fails, naming it.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Random } from '../src/ml';
import { BENCH_MODEL, LinearModel, linearArtifact, predictRows } from './bare-fastify-server';
import {
  AUTH_HEADERS,
  call,
  mib,
  progress,
  ROOT,
  rssBytes,
  seconds,
  Service,
  startService,
} from './support';
import {
  checkOnce,
  cleanUp,
  fmt,
  measureRounds,
  median,
  ratioRow,
  render,
  Result,
  ROUNDS,
  Row,
  SECONDS,
  TABLE_HEADER,
  Target,
  verdict,
  verdictLine,
  WARM_UP_SECONDS,
} from './wrk';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Batches are large; fewer connections, the same on every side. */
const BATCH_CONNECTIONS = 4;
const BASE_PORT = Number(process.env.BENCH_PORT ?? 3200);
const PORTS = { bare: BASE_PORT, modelDock: BASE_PORT + 1, flask: BASE_PORT + 2 };
const FEATURES = BENCH_MODEL.coefficients.length;
const BATCH_ROWS = 10_000;
const REGISTRY_MODELS = 1_000;
const REGISTRY_VERSIONS = 5;
const REGISTRY_CONCURRENCY = 8;
const MODEL = 'bench-linear';
/** Relative, and absolute for values below 1 in magnitude. */
const TOLERANCE = 1e-9;
const TARGETS = {
  singleVsBare: 0.75,
  singleP99VsBare: 1.5,
  singleVsFlask: 4,
  batchVsBare: 0.8,
  v2VsV1: 0.9,
  registryVsV1: 0.9,
  idleRss: 150 * 1024 ** 2,
  loadedRss: 400 * 1024 ** 2,
};

/** Deterministic rows of numbers in [-10, 10) with 6 decimals, like a typical client export. */
function randomRows(count: number, seed: number): number[][] {
  const random = new Random(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: FEATURES }, () =>
      Number(((random.nextUint32() / 2 ** 32) * 20 - 10).toFixed(6)),
    ),
  );
}

/** Version `version` of registry model `index`: the bench model, slightly moved. */
function registryModel(index: number, version: number): LinearModel {
  return {
    coefficients: BENCH_MODEL.coefficients.map((c, j) => c + (version * (j + 1)) / 1000),
    intercept: BENCH_MODEL.intercept + index / 1000,
  };
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What differs between an answer and the expected numbers; undefined when they match. */
function compare(actual: unknown, expected: number[]): string | undefined {
  if (!Array.isArray(actual) || actual.length !== expected.length) {
    return `expected ${expected.length} predictions, got ${JSON.stringify(actual)?.slice(0, 80)}`;
  }
  const wrong = expected.findIndex(
    (value, i) => !(Math.abs(actual[i] - value) <= TOLERANCE * Math.max(1, Math.abs(value))),
  );
  return wrong < 0 ? undefined : `prediction ${wrong} is ${actual[wrong]}, not ${expected[wrong]}`;
}

const predictionsOf = (answer: any): unknown => answer.predictions;
const v2OutputOf = (answer: any): unknown => answer.outputs[0].data;

/** A wrk target POSTing `body`, whose answer `read` must give `expected`. */
function target(
  name: string,
  url: string,
  pid: number,
  connections: number,
  body: object,
  expected: number[],
  read: (answer: any) => unknown,
): Target {
  return {
    name,
    url,
    pid,
    connections,
    body: Buffer.from(JSON.stringify(body)),
    headers: { ...AUTH_HEADERS, 'content-type': 'application/json' },
    check: async (response) => compare(read(await response.json()), expected),
  };
}

const v1Body = (rows: number[][]) => ({ instances: rows });
const v2Body = (rows: number[][]) => ({
  inputs: [{ name: 'input-0', shape: [rows.length, FEATURES], datatype: 'FP64', data: rows }],
});

/** Runs `task` over `items`, `concurrency` at a time; after a failure starts no more, rethrows it. */
async function forEach<T>(
  items: T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      const index = next++;
      await task(items[index], index).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failures.length > 0) throw failures[0];
}

interface Child {
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns a server and waits until it answers HTTP on `port` (any status). */
async function startChild(command: string, args: string[], port: number): Promise<Child> {
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with code ${child.exitCode}`);
    try {
      await fetch(baseUrl);
      return { baseUrl, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not answer on port ${port} in 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The gunicorn executable to serve bench/flask_app.py with, or why Flask is skipped. */
function findGunicorn(): { gunicorn: string } | { skipped: string } {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import flask, numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { skipped: '/usr/bin/python3 cannot import flask and numpy' };
  }
  const candidates = [
    '/usr/bin/gunicorn',
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'gunicorn')),
  ];
  const gunicorn = candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return gunicorn ? { gunicorn } : { skipped: 'no gunicorn executable' };
}

/** 2 workers, as a typical seed runs it; gthread with 1 thread for keep-alive (see the header). */
const GUNICORN_ARGS = `-w 2 -k gthread --threads 1 -b 127.0.0.1:${PORTS.flask} --chdir bench --log-level warning flask_app:app`;

/** Registers REGISTRY_MODELS models × REGISTRY_VERSIONS imported versions, the last aliased. */
async function registerModels(service: Service, names: string[]): Promise<void> {
  const total = names.length * REGISTRY_VERSIONS;
  let registered = 0;
  await forEach(names, REGISTRY_CONCURRENCY, async (name, index) => {
    for (let version = 1; version <= REGISTRY_VERSIONS; version++) {
      await call(service.baseUrl, 'POST', `/v1/models/${name}/versions`, {
        artifact: linearArtifact(registryModel(index, version)),
        ...(version === REGISTRY_VERSIONS ? { alias: 'production' } : {}),
      });
      if (++registered % 500 === 0) progress(`  ${registered} / ${total} versions registered`);
    }
  });
}

/** One predict per model, so every production version is loaded; each answer checked. */
async function predictEveryModel(baseUrl: string, rows: number[][]): Promise<void> {
  await forEach(REGISTRY_NAMES, REGISTRY_CONCURRENCY, async (name, index) => {
    const expected = predictRows(registryModel(index, REGISTRY_VERSIONS), rows);
    const response = await fetch(`${baseUrl}/v1/models/${name}/predict`, {
      method: 'POST',
      headers: { ...AUTH_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify(v1Body(rows)),
    });
    const answer = (await response.json()) as { version: number; predictions: unknown };
    const failure =
      response.status !== 200
        ? `HTTP ${response.status}`
        : answer.version !== REGISTRY_VERSIONS
          ? `version ${answer.version} answered, not production (${REGISTRY_VERSIONS})`
          : compare(answer.predictions, expected);
    if (failure) throw new Error(`${name}: ${failure}`);
  });
}

const REGISTRY_NAMES = Array.from(
  { length: REGISTRY_MODELS },
  (_, i) => `m${String(i).padStart(4, '0')}`,
);
const REGISTRY_PATHS = REGISTRY_NAMES.map((name) => `/v1/models/${name}/predict`);
const ROUND_ROBIN = `1 row, round-robin over ${integer(REGISTRY_MODELS)} models`;

interface Servers {
  bare: Child;
  flask?: Child;
  flaskSkipped?: string;
  modelDock: Service;
}

/** Every server at once (an idle one costs the others nothing), so rounds can alternate them. */
async function startServers(dataDir: string): Promise<Servers> {
  const bare = await startChild(
    process.execPath,
    [path.join(ROOT, 'dist', 'bench', 'bare-fastify-server.js'), String(PORTS.bare)],
    PORTS.bare,
  );
  const gunicorn = findGunicorn();
  let flask: Child | undefined;
  let flaskSkipped: string | undefined;
  if ('skipped' in gunicorn) flaskSkipped = gunicorn.skipped;
  else {
    try {
      flask = await startChild(gunicorn.gunicorn, GUNICORN_ARGS.split(' '), PORTS.flask);
    } catch (error) {
      flaskSkipped = `gunicorn did not start: ${message(error)}`;
    }
  }
  if (flaskSkipped) progress(`Flask skipped: ${flaskSkipped}`);
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    RATE_LIMIT_PREDICT_PER_MINUTE: '100000000',
  };
  const logFile = path.join(dataDir, 'service.log');
  const modelDock = await startService(PORTS.modelDock, env, dataDir, logFile);
  return { bare, flask, flaskSkipped, modelDock };
}

/** `run` over `base`, the median of the rounds' p99 ratios, against a maximum. */
function p99Row(name: string, run: Result[], base: Result[], max: number): Row {
  const ratio = median(run.map((r, i) => r.p99 / base[i].p99));
  return [
    name,
    undefined,
    `${ratio.toFixed(2)}× bare p99`,
    `≤ ${max}× bare p99`,
    verdict(ratio <= max),
  ];
}

function infoRow(name: string, figure: string, target = '', result: Row[4] = 'INFO'): Row {
  return [name, undefined, figure, target, result];
}

async function runBench(servers: Servers): Promise<{ rows: Row[]; notes: string[] }> {
  const rows = { single: randomRows(1, 7), batch: randomRows(BATCH_ROWS, 2024) };
  const expected = {
    single: predictRows(BENCH_MODEL, rows.single),
    batch: predictRows(BENCH_MODEL, rows.batch),
  };
  const { bare, flask, modelDock } = servers;
  const idleRss = rssBytes(modelDock.pid);
  await call(modelDock.baseUrl, 'POST', `/v1/models/${MODEL}/versions`, {
    artifact: linearArtifact(BENCH_MODEL),
    alias: 'production',
  });
  const bareUrl = `${bare.baseUrl}/predict`;
  const v1 = `${modelDock.baseUrl}/v1/models/${MODEL}/predict`;
  const v2 = `${modelDock.baseUrl}/v2/models/${MODEL}/infer`;
  const single = v1Body(rows.single);
  const bareSingle = target(
    'bare Fastify, 1 row',
    bareUrl,
    bare.pid,
    CONNECTIONS,
    single,
    expected.single,
    predictionsOf,
  );
  const v1Single = target(
    'ModelDock v1 predict, 1 row',
    v1,
    modelDock.pid,
    CONNECTIONS,
    single,
    expected.single,
    predictionsOf,
  );
  const v2Single = target(
    'ModelDock V2 infer, 1 row',
    v2,
    modelDock.pid,
    CONNECTIONS,
    v2Body(rows.single),
    expected.single,
    v2OutputOf,
  );
  const flaskName = 'Flask + numpy (gunicorn, 2 gthread workers × 1 thread), 1 row';
  const flaskSingle = flask
    ? [
        target(
          flaskName,
          `${flask.baseUrl}/predict`,
          flask.pid,
          CONNECTIONS,
          single,
          expected.single,
          predictionsOf,
        ),
      ]
    : [];
  const [bareRun, v1Run, v2Run, flaskRun] = await measureRounds([
    bareSingle,
    v1Single,
    v2Single,
    ...flaskSingle,
  ]);

  const batchName = `${integer(BATCH_ROWS)}-row batch`;
  const batch = v1Body(rows.batch);
  const [bareBatch, v1Batch] = await measureRounds([
    target(
      `bare Fastify, ${batchName}`,
      bareUrl,
      bare.pid,
      BATCH_CONNECTIONS,
      batch,
      expected.batch,
      predictionsOf,
    ),
    target(
      `ModelDock v1 predict, ${batchName}`,
      v1,
      modelDock.pid,
      BATCH_CONNECTIONS,
      batch,
      expected.batch,
      predictionsOf,
    ),
  ]);

  const table: Row[] = [
    [bareSingle.name, bareRun, 'baseline', '', ''],
    flaskRun
      ? [flaskName, flaskRun, 'baseline', '', '']
      : infoRow(flaskName, servers.flaskSkipped ?? '', '', ''),
    [`bare Fastify, ${batchName}`, bareBatch, 'baseline', '', ''],
    ratioRow(`1. ${v1Single.name}`, v1Run, bareRun, 'bare', TARGETS.singleVsBare),
    p99Row(`1. ↳ p99 at ${CONNECTIONS} connections`, v1Run, bareRun, TARGETS.singleP99VsBare),
    flaskRun
      ? ratioRow('1. ↳ vs Flask', v1Run, flaskRun, 'Flask', TARGETS.singleVsFlask)
      : infoRow('1. ↳ vs Flask', 'n/a', `≥ ${TARGETS.singleVsFlask}× Flask req/s`, ''),
    infoRow(
      '1. ↳ server CPU per request',
      `${fmt(median(v1Run.map((r) => r.cpu)))} µs vs ${fmt(median(bareRun.map((r) => r.cpu)))} µs bare`,
      'no target: steadier than req/s on a shared machine',
    ),
    ratioRow(
      `2. ModelDock v1 predict, ${batchName}`,
      v1Batch,
      bareBatch,
      'bare',
      TARGETS.batchVsBare,
    ),
    ratioRow(`3. ${v2Single.name}`, v2Run, v1Run, 'v1 1-row', TARGETS.v2VsV1),
  ];

  progress(`registering ${REGISTRY_MODELS} models × ${REGISTRY_VERSIONS} versions`);
  const started = performance.now();
  await registerModels(modelDock, REGISTRY_NAMES);
  const registrationMs = performance.now() - started;
  await predictEveryModel(modelDock.baseUrl, rows.single);
  // Both sides cycle through the same 1,000 paths (bare Fastify has the same route).
  const spread = (name: string, t: Target): Target => ({
    ...t,
    name,
    paths: REGISTRY_PATHS,
    check: async () => undefined,
  });
  const bareOne = { ...bareSingle, name: 'bare Fastify, 1 row (beside scenario 4)' };
  const bareSpread = spread(`bare Fastify, ${ROUND_ROBIN} (the same paths)`, {
    ...bareSingle,
    url: bare.baseUrl,
  });
  const mdSpread = spread(`ModelDock v1 predict, ${ROUND_ROBIN}`, {
    ...v1Single,
    url: modelDock.baseUrl,
  });
  const mdOne = target(
    `ModelDock v1 predict, 1 row, one of ${integer(REGISTRY_MODELS)} models`,
    `${modelDock.baseUrl}/v1/models/${REGISTRY_NAMES[0]}/predict`,
    modelDock.pid,
    CONNECTIONS,
    single,
    predictRows(registryModel(0, REGISTRY_VERSIONS), rows.single),
    predictionsOf,
  );
  await checkOnce(mdOne);
  const [bareAgain, bareSpreadRun, spreadRun, oneRun] = await measureRounds([
    bareOne,
    bareSpread,
    mdSpread,
    mdOne,
  ]);
  const v1VsBare = median(v1Run.map((r, i) => r.rps / bareRun[i].rps));
  /** Scenario 4 over bare driven the same way, against the 1-model ratio. */
  const growth = (name: string, run: Result[], base: Result[]): Row => {
    const ratio = median(run.map((r, i) => r.rps / base[i].rps)) / v1VsBare;
    const target = `≥ ${TARGETS.registryVsV1}× the 1-model ratio (each over bare)`;
    return [
      name,
      run,
      `${ratio.toFixed(2)}× v1 1-row`,
      target,
      verdict(ratio >= TARGETS.registryVsV1),
    ];
  };
  table.push(
    [bareOne.name, bareAgain, 'baseline', '', ''],
    [bareSpread.name, bareSpreadRun, 'baseline', '', ''],
    growth(`4. ${mdSpread.name}`, spreadRun, bareSpreadRun),
    growth(`4. ${mdOne.name}`, oneRun, bareAgain),
    infoRow(
      '5. ModelDock RSS, idle after start-up',
      mib(idleRss),
      `< ${mib(TARGETS.idleRss)}`,
      verdict(idleRss < TARGETS.idleRss),
    ),
  );
  const loadedRss = rssBytes(modelDock.pid);
  table.push(
    infoRow(
      `5. ModelDock RSS, ${integer(REGISTRY_MODELS)} versions loaded and served`,
      mib(loadedRss),
      `< ${mib(TARGETS.loadedRss)}`,
      verdict(loadedRss < TARGETS.loadedRss),
    ),
  );
  const versions = REGISTRY_MODELS * REGISTRY_VERSIONS;
  const notes = [
    `Registry: ${integer(versions)} versions imported in ${seconds(registrationMs)}, ${REGISTRY_CONCURRENCY} at a time ` +
      `(${integer(versions / (registrationMs / 1000))}/s).`,
  ];
  return { rows: table, notes };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-serve-'));
  let servers: Servers | undefined;
  try {
    servers = await startServers(dataDir);
    const { rows, notes } = await runBench(servers);
    const lines = [
      `ModelDock serving benchmark: linear model, ${FEATURES} features; wrk -t1 at ${CONNECTIONS} connections ` +
        `(${BATCH_CONNECTIONS} for ${integer(BATCH_ROWS)}-row batches); ${ROUNDS} rounds, each running every side ` +
        `in turn (${WARM_UP_SECONDS} s warm-up + ${SECONDS} s); figures are medians over the rounds, ratios the median of each round's ratio.`,
      '',
      ...TABLE_HEADER,
      ...rows.map(render),
      '',
      ...notes,
      verdictLine(rows),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.exitCode = rows.some((row) => row[4] === 'FAIL') ? 1 : 0;
  } finally {
    await servers?.modelDock.stop();
    await servers?.flask?.stop();
    await servers?.bare.stop();
    rmSync(dataDir, { recursive: true, force: true });
    cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:serve failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
