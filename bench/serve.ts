// npm run bench:serve — prediction throughput, latency and memory of the production build, as
// ratios to baselines measured in the same run (the machine is shared and noisy, so absolute
// figures alone say little):
// - bare Fastify answering the same linear model (bench/bare-fastify-server.ts): the ceiling for
//   a Node HTTP JSON endpoint;
// - Flask + numpy under gunicorn with 2 workers (bench/flask_app.py), the typical Python model
//   server, when /usr/bin/python3 has flask and numpy and gunicorn is installed. The workers are
//   gthread with 1 thread: like the default sync worker one request at a time per process, but
//   with keep-alive; autocannon writes the next request on a connection the sync worker closed
//   after its response, and counts the resets and the lost requests' time as latency.
// Scenarios: single-row v1 predict (and what one lone client waits), a 10,000-row batch, the Open
// Inference Protocol (V2) infer route, single rows spread over 1,000 registered models, and the
// service's RSS. All servers are
// up at once and the sides of a comparison take turns, round after round, so that each ratio is
// between runs seconds apart; autocannon runs in this process for every side alike. Each scenario
// is first checked with one request (status 200, the numbers of predictRows). Exits 1 when a
// target fails, naming it.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Random } from '../src/ml';
import { BENCH_MODEL, LinearModel, predictRows } from './bare-fastify-server';
import {
  AUTH_HEADERS,
  call,
  load,
  loadEach,
  LoadResult,
  cpuSeconds,
  mib,
  progress,
  ROOT,
  rssBytes,
  seconds,
  Service,
  startService,
} from './support';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Batches are large; fewer connections, the same on every side. */
const BATCH_CONNECTIONS = 4;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WARM_UP_SECONDS = 1;
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
  singleP99Ms: 5,
  singleVsFlask: 4,
  batchVsBare: 0.8,
  v2VsV1: 0.9,
  registryVsV1: 0.9,
  idleRss: 150 * 1024 ** 2,
  loadedRss: 400 * 1024 ** 2,
};

/** A request body with the answer predictRows gives for its rows. */
interface Payload {
  body: string;
  expected: number[];
}

/** A scenario's measured runs, one per round; none when its checked request failed (`failure`). */
interface Run {
  name: string;
  rowsPerRequest: number;
  results: LoadResult[];
  /** Server CPU microseconds per request, per round (when the server's pid is known). */
  cpuPerRequest: number[];
  warmUpErrors: number;
  failure?: string;
}

interface Scenario {
  name: string;
  rowsPerRequest: number;
  connections: number;
  /** The server process, whose CPU time per request is measured when known. */
  pid?: number;
  /** Sends one request (or a few) and returns what is wrong with the answer, if anything. */
  check(): Promise<string | undefined>;
  drive(options: { connections: number; seconds: number }): Promise<LoadResult>;
}

/** Deterministic rows of numbers in [-10, 10) with 6 decimals, like a typical client export. */
function randomRows(count: number, seed: number): number[][] {
  const random = new Random(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: FEATURES }, () =>
      Number(((random.nextUint32() / 2 ** 32) * 20 - 10).toFixed(6)),
    ),
  );
}

function v1Payload(rows: number[][], model = BENCH_MODEL): Payload {
  return { body: JSON.stringify({ instances: rows }), expected: predictRows(model, rows) };
}

function v2Payload(rows: number[][]): Payload {
  const input = { name: 'input-0', shape: [rows.length, FEATURES], datatype: 'FP64', data: rows };
  return { body: JSON.stringify({ inputs: [input] }), expected: predictRows(BENCH_MODEL, rows) };
}

const predictionsOf = (answer: any): unknown => answer.predictions;
const v2OutputOf = (answer: any): unknown => answer.outputs[0].data;

function artifact(model: LinearModel) {
  return {
    format: 'modeldock/v1',
    algorithm: 'linear-regression',
    inputs: model.coefficients.map((_, j) => ({ name: `x${j}`, type: 'number' })),
    output: { name: 'y', type: 'number' },
    coefficients: model.coefficients,
    intercept: model.intercept,
  };
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

/** The message of a problem-details (`detail`) or Open Inference Protocol (`error`) body. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body);
    return String(parsed.detail ?? parsed.error ?? body).slice(0, 160);
  } catch {
    return body.slice(0, 160);
  }
}

/** POSTs the payload once: status 200 and `read(answer)` matching the expected numbers. */
async function checkPost(
  url: string,
  payload: Payload,
  read: (answer: any) => unknown,
): Promise<string | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH_HEADERS },
      body: payload.body,
    });
    const text = await response.text();
    if (response.status !== 200) return `HTTP ${response.status}: ${errorText(text)}`;
    return compare(read(JSON.parse(text)), payload.expected);
  } catch (error) {
    return `no usable answer: ${message(error)}`;
  }
}

function post(
  name: string,
  url: string,
  payload: Payload,
  connections: number,
  read: (answer: any) => unknown,
): Scenario {
  return {
    name,
    rowsPerRequest: payload.expected.length,
    connections,
    check: () => checkPost(url, payload, read),
    drive: (options) => load(url, payload.body, options),
  };
}

/** Middle value (the mean of the two middle ones for an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Checks each scenario once, then drives them in turn, ROUNDS times (warm-up, then the measured
 * run): each round measures every side within seconds of the others, so a ratio is taken between
 * runs that met the same machine, and the median of the rounds' ratios rides out a noisy one.
 */
async function measureRounds(scenarios: Scenario[]): Promise<Run[]> {
  const runs: Run[] = [];
  for (const { name, rowsPerRequest, check } of scenarios) {
    const failure = await check();
    if (failure) progress(`${name}: check failed: ${failure}`);
    runs.push({ name, rowsPerRequest, results: [], cpuPerRequest: [], warmUpErrors: 0, failure });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, scenario] of scenarios.entries()) {
      const run = runs[i];
      if (run.failure) continue;
      const { connections } = scenario;
      const warmUp = await scenario.drive({ connections, seconds: WARM_UP_SECONDS });
      const cpuBefore = scenario.pid ? cpuSeconds(scenario.pid) : 0;
      const result = await scenario.drive({ connections, seconds: SECONDS });
      if (scenario.pid) {
        const cpu = cpuSeconds(scenario.pid) - cpuBefore;
        run.cpuPerRequest.push((cpu * 1e6) / Math.max(1, result.requests));
      }
      run.warmUpErrors += warmUp.errors;
      run.results.push(result);
      progress(
        `round ${round}/${ROUNDS} ${scenario.name} (${connections} connections): ` +
          `${integer(result.requestsPerSecond)} req/s, p99 ${result.p99} ms`,
      );
    }
  }
  return runs;
}

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
const FLASK_SINGLE = 'Flask + numpy (gunicorn, 2 gthread workers × 1 thread), 1 row';

/** Registers REGISTRY_MODELS models × REGISTRY_VERSIONS imported versions, the last aliased. */
async function registerModels(service: Service, names: string[]): Promise<void> {
  const total = names.length * REGISTRY_VERSIONS;
  let registered = 0;
  await forEach(names, REGISTRY_CONCURRENCY, async (name, index) => {
    for (let version = 1; version <= REGISTRY_VERSIONS; version++) {
      await call(service.baseUrl, 'POST', `/v1/models/${name}/versions`, {
        artifact: artifact(registryModel(index, version)),
        ...(version === REGISTRY_VERSIONS ? { alias: 'production' } : {}),
      });
      if (++registered % 500 === 0) progress(`  ${registered} / ${total} versions registered`);
    }
  });
}

/** One predict per model, so every production version is loaded; each answer checked. */
async function predictEveryModel(
  service: Service,
  names: string[],
  rows: number[][],
): Promise<string | undefined> {
  const servesProduction = (answer: any) => {
    if (answer.version !== REGISTRY_VERSIONS) {
      throw new Error(`version ${answer.version} answered, not production (${REGISTRY_VERSIONS})`);
    }
    return answer.predictions;
  };
  try {
    await forEach(names, REGISTRY_CONCURRENCY, async (name, index) => {
      const url = `${service.baseUrl}/v1/models/${name}/predict`;
      const failure = await checkPost(
        url,
        v1Payload(rows, registryModel(index, REGISTRY_VERSIONS)),
        servesProduction,
      );
      if (failure) throw new Error(`${name}: ${failure}`);
    });
    return undefined;
  } catch (error) {
    return message(error);
  }
}

const REGISTRY_NAMES = Array.from(
  { length: REGISTRY_MODELS },
  (_, i) => `m${String(i).padStart(4, '0')}`,
);

const ROUND_ROBIN = `1 row, round-robin over ${integer(REGISTRY_MODELS)} models`;

/** Single rows to /v1/models/{name}/predict for every registered name in turn. */
function roundRobin(name: string, baseUrl: string, rows: number[][], check: Scenario['check']) {
  const body = JSON.stringify({ instances: rows });
  const requests = REGISTRY_NAMES.map((model) => ({ path: `/v1/models/${model}/predict`, body }));
  return {
    name,
    rowsPerRequest: 1,
    connections: CONNECTIONS,
    check,
    drive: (options: { connections: number; seconds: number }) =>
      loadEach(baseUrl, requests, options),
  };
}

/** Scenario 4's load: single rows round-robin over every registered model, and one of them. */
function registryScenarios(service: Service, rows: number[][]): Scenario[] {
  return [
    roundRobin(`ModelDock v1 predict, ${ROUND_ROBIN}`, service.baseUrl, rows, () =>
      predictEveryModel(service, REGISTRY_NAMES, rows),
    ),
    post(
      `ModelDock v1 predict, 1 row, one of ${integer(REGISTRY_MODELS)} models`,
      `${service.baseUrl}/v1/models/${REGISTRY_NAMES[0]}/predict`,
      v1Payload(rows, registryModel(0, REGISTRY_VERSIONS)),
      CONNECTIONS,
      predictionsOf,
    ),
  ];
}

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
  const modelDock = await startService(PORTS.modelDock, {}, dataDir);
  return { bare, flask, flaskSkipped, modelDock };
}

async function runBench(servers: Servers) {
  const rows = { single: randomRows(1, 7), batch: randomRows(BATCH_ROWS, 2024) };
  const single = v1Payload(rows.single);
  const batch = v1Payload(rows.batch);
  const { bare, flask, modelDock } = servers;
  const idleRss = rssBytes(modelDock.pid);
  await call(modelDock.baseUrl, 'POST', `/v1/models/${MODEL}/versions`, {
    artifact: artifact(BENCH_MODEL),
    alias: 'production',
  });
  const bareUrl = `${bare.baseUrl}/predict`;
  const v1 = `${modelDock.baseUrl}/v1/models/${MODEL}/predict`;
  const v2 = `${modelDock.baseUrl}/v2/models/${MODEL}/infer`;
  const onBare = (scenario: Scenario): Scenario => ({ ...scenario, pid: bare.pid });
  const onModelDock = (scenario: Scenario): Scenario => ({ ...scenario, pid: modelDock.pid });
  const bareSingle = onBare(
    post('bare Fastify, 1 row', bareUrl, single, CONNECTIONS, predictionsOf),
  );

  const [bareRun, v1Run, v2Run, flaskRun] = await measureRounds([
    bareSingle,
    onModelDock(post('ModelDock v1 predict, 1 row', v1, single, CONNECTIONS, predictionsOf)),
    onModelDock(
      post('ModelDock V2 infer, 1 row', v2, v2Payload(rows.single), CONNECTIONS, v2OutputOf),
    ),
    ...(flask
      ? [post(FLASK_SINGLE, `${flask.baseUrl}/predict`, single, CONNECTIONS, predictionsOf)]
      : []),
  ]);
  const batchName = `${integer(BATCH_ROWS)}-row batch`;
  const [bareBatch, v1Batch] = await measureRounds([
    post(`bare Fastify, ${batchName}`, bareUrl, batch, BATCH_CONNECTIONS, predictionsOf),
    post(`ModelDock v1 predict, ${batchName}`, v1, batch, BATCH_CONNECTIONS, predictionsOf),
  ]);

  progress(`registering ${REGISTRY_MODELS} models × ${REGISTRY_VERSIONS} versions`);
  const started = performance.now();
  let registrationMs: number | undefined;
  let registry: { bare: Run; bareSpread: Run; spread: Run; one: Run } | undefined;
  try {
    await registerModels(modelDock, REGISTRY_NAMES);
    registrationMs = performance.now() - started;
    const [bareAgain, bareSpread, spread, one] = await measureRounds([
      { ...bareSingle, name: 'bare Fastify, 1 row (beside scenario 4)' },
      roundRobin(`bare Fastify, ${ROUND_ROBIN} (the same paths)`, bare.baseUrl, rows.single, () =>
        checkPost(`${bare.baseUrl}/v1/models/${REGISTRY_NAMES[0]}/predict`, single, predictionsOf),
      ),
      ...registryScenarios(modelDock, rows.single),
    ]);
    registry = { bare: bareAgain, bareSpread, spread, one };
  } catch (error) {
    progress(`  registration failed: ${message(error)}`);
  }
  return {
    idleRss,
    loadedRss: registry ? rssBytes(modelDock.pid) : undefined,
    bareRun,
    v1Run,
    v2Run,
    flaskRun,
    bareBatch,
    v1Batch,
    registry,
    registrationMs,
  };
}

// ---- the report

interface Row {
  scenario: string;
  /** Its measurements fill the row; absent on a further target of the run above. */
  run?: Run;
  ratio: string;
  target: string;
  result: 'PASS' | 'FAIL' | 'SKIP' | 'INFO';
}

function errorCount(run: Run): number {
  return run.warmUpErrors + run.results.reduce((sum, result) => sum + result.errors, 0);
}

const succeeded = (run: Run | undefined): run is Run =>
  !!run && run.results.length > 0 && errorCount(run) === 0;
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
const perSecond = (run: Run, round: number, unit: 'req' | 'rows') =>
  run.results[round].requestsPerSecond * (unit === 'rows' ? run.rowsPerRequest : 1);
const medianOf = (run: Run, read: (result: LoadResult) => number) => median(run.results.map(read));

/** Bare Fastify's CPU per request over `run`'s, the median of the rounds: 1 would cost nothing more. */
function cpuRatio(bare: Run, run: Run): string {
  if (!succeeded(bare) || !succeeded(run) || run.cpuPerRequest.length === 0) return 'n/a';
  const ratio = median(run.cpuPerRequest.map((cpu, round) => bare.cpuPerRequest[round] / cpu));
  return `${ratio.toFixed(2)}× bare (${median(run.cpuPerRequest).toFixed(0)} µs vs ${median(bare.cpuPerRequest).toFixed(0)} µs)`;
}

/** The median over the rounds of `run`'s req/s (or rows/s) over `baseline`'s in the same round. */
function roundRatio(run: Run, baseline: Run, unit: 'req' | 'rows'): number | undefined {
  if (!succeeded(run) || !succeeded(baseline)) return undefined;
  return median(
    run.results.map((_, round) => perSecond(run, round, unit) / perSecond(baseline, round, unit)),
  );
}

function baselineRow(run: Run): Row {
  return {
    scenario: run.name,
    run,
    ratio: '',
    target: 'baseline',
    result: verdict(succeeded(run)),
  };
}

function ratioRow(
  scenario: string,
  run: Run | undefined,
  ratio: number | undefined,
  label: string,
  target: string,
  min: number,
): Row {
  return {
    scenario,
    run,
    ratio: ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}× ${label}`,
    target: `≥ ${min}× ${target}`,
    result: verdict(ratio !== undefined && ratio >= min),
  };
}

function rssRow(scenario: string, bytes: number | undefined, limit: number): Row {
  return {
    scenario,
    ratio: bytes === undefined ? 'not measured' : mib(bytes),
    target: `< ${mib(limit)}`,
    result: verdict(bytes !== undefined && bytes < limit),
  };
}

const cell = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');

/** Errors over every run (warm-ups included), non-2xx statuses named; or why nothing ran. */
function errorsCell(run: Run): string {
  if (run.failure) return `check failed: ${run.failure}`;
  const total = errorCount(run);
  const statuses: Record<string, number> = {};
  let non2xx = 0;
  for (const result of run.results) {
    for (const [status, count] of Object.entries(result.statusCodes ?? {})) {
      if (status.startsWith('2')) continue;
      statuses[status] = (statuses[status] ?? 0) + count;
      non2xx += count;
    }
  }
  const detail = Object.entries(statuses).map(([status, count]) => `HTTP ${status} × ${count}`);
  if (total > non2xx)
    detail.push(`${total - non2xx} connection errors, timeouts or warm-up errors`);
  return detail.length ? `${total} (${detail.join(', ')})` : '0';
}

function renderRow(row: Row): string {
  const run = row.run;
  const measured =
    run && run.results.length > 0
      ? [
          integer(medianOf(run, (r) => r.requestsPerSecond)),
          integer(medianOf(run, (r) => r.requestsPerSecond) * run.rowsPerRequest),
          String(medianOf(run, (r) => r.p50)),
          String(medianOf(run, (r) => r.p99)),
          errorsCell(run),
        ]
      : run
        ? ['—', '—', '—', '—', errorsCell(run)]
        : ['', '', '', '', ''];
  return `| ${[row.scenario, ...measured, row.ratio, row.target, row.result].map(cell).join(' | ')} |`;
}

function report(servers: Servers, bench: Awaited<ReturnType<typeof runBench>>): Row[] {
  const { bareRun, v1Run, v2Run, flaskRun, bareBatch, v1Batch, registry } = bench;
  const p99 = succeeded(v1Run) ? medianOf(v1Run, (r) => r.p99) : undefined;
  const v1VsBare = roundRatio(v1Run, bareRun, 'req');
  /**
   * Scenario 4 against the 1-model figure, each as a ratio to bare Fastify driven the same way in
   * its own rounds (the round-robin over the same 1,000 paths for the spread load).
   */
  const growth = (run: Run, bare: Run) => {
    const ratio = roundRatio(run, bare, 'req');
    return ratio !== undefined && v1VsBare !== undefined ? ratio / v1VsBare : undefined;
  };
  const registryRows: Row[] = registry
    ? [
        baselineRow(registry.bare),
        baselineRow(registry.bareSpread),
        ...[
          [registry.spread, registry.bareSpread],
          [registry.one, registry.bare],
        ].map(([run, bare]) =>
          ratioRow(
            `4. ${run.name}`,
            run,
            growth(run, bare),
            'v1 1-row',
            'the 1-model req/s (each over bare)',
            TARGETS.registryVsV1,
          ),
        ),
      ]
    : [
        {
          scenario: '4. registry of 1,000 models',
          ratio: 'registration failed',
          target: `≥ ${TARGETS.registryVsV1}× the 1-model req/s`,
          result: 'FAIL',
        },
      ];
  return [
    baselineRow(bareRun),
    flaskRun
      ? baselineRow(flaskRun)
      : {
          scenario: FLASK_SINGLE,
          ratio: servers.flaskSkipped ?? '',
          target: 'baseline',
          result: 'SKIP',
        },
    baselineRow(bareBatch),
    ratioRow(`1. ${v1Run.name}`, v1Run, v1VsBare, 'bare', 'bare req/s', TARGETS.singleVsBare),
    {
      scenario: `1. ↳ p99 at ${CONNECTIONS} connections`,
      ratio: p99 === undefined ? 'n/a' : `${p99} ms`,
      target: `≤ ${TARGETS.singleP99Ms} ms`,
      result: verdict(p99 !== undefined && p99 <= TARGETS.singleP99Ms),
    },
    flaskRun
      ? ratioRow(
          '1. ↳ vs Flask',
          undefined,
          roundRatio(v1Run, flaskRun, 'req'),
          'Flask',
          'Flask req/s',
          TARGETS.singleVsFlask,
        )
      : {
          scenario: '1. ↳ vs Flask',
          ratio: 'n/a',
          target: `≥ ${TARGETS.singleVsFlask}× Flask req/s`,
          result: 'SKIP',
        },
    {
      scenario: '1. ↳ server CPU per request',
      ratio: cpuRatio(bareRun, v1Run),
      target:
        'no target: cost of the service over bare Fastify, steadier than req/s on a shared machine',
      result: 'INFO',
    },
    ratioRow(
      `2. ${v1Batch.name}`,
      v1Batch,
      roundRatio(v1Batch, bareBatch, 'rows'),
      'bare',
      'bare rows/s',
      TARGETS.batchVsBare,
    ),
    ratioRow(
      `3. ${v2Run.name}`,
      v2Run,
      roundRatio(v2Run, v1Run, 'req'),
      'v1 1-row',
      'v1 1-row req/s',
      TARGETS.v2VsV1,
    ),
    ...registryRows,
    rssRow('5. ModelDock RSS, idle after start-up', bench.idleRss, TARGETS.idleRss),
    rssRow(
      `5. ModelDock RSS, ${integer(REGISTRY_MODELS)} versions loaded and served`,
      bench.loadedRss,
      TARGETS.loadedRss,
    ),
  ];
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-serve-'));
  let servers: Servers | undefined;
  try {
    servers = await startServers(dataDir);
    const bench = await runBench(servers);
    const table = report(servers, bench);
    const registration = bench.registrationMs;
    const failed = table.filter((row) => row.result === 'FAIL');
    const lines = [
      `ModelDock serving benchmark: linear model, ${FEATURES} features; autocannon at ${CONNECTIONS} connections ` +
        `(${BATCH_CONNECTIONS} for ${integer(BATCH_ROWS)}-row batches); ${ROUNDS} rounds, each running every side ` +
        `in turn (${WARM_UP_SECONDS} s warm-up + ${SECONDS} s); figures are medians over the rounds, ratios the median of each round's ratio.`,
      '',
      '| scenario | req/s | rows/s | p50 ms | p99 ms | errors | ratio | target | result |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...table.map(renderRow),
      '',
      registration === undefined
        ? 'Registry: registration failed (see scenario 4).'
        : `Registry: ${integer(REGISTRY_MODELS * REGISTRY_VERSIONS)} versions imported in ${seconds(registration)}, ${REGISTRY_CONCURRENCY} at a time ` +
          `(${integer((REGISTRY_MODELS * REGISTRY_VERSIONS) / (registration / 1000))}/s).`,
      failed.length === 0
        ? 'All targets met.'
        : `FAILED ${failed.length} target(s): ${failed.map((row) => `${row.scenario} (${row.target})`).join('; ')}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.exitCode = failed.length === 0 ? 0 : 1;
  } finally {
    await servers?.modelDock.stop();
    await servers?.flask?.stop();
    await servers?.bare.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:serve failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
