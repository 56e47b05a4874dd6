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
// Scenarios: single-row v1 predict, a 10,000-row batch, the Open Inference Protocol (V2) infer
// route, single rows spread over 1,000 registered models, and the service's RSS. Servers run one
// at a time; autocannon runs in this process for every side alike. Each load run follows one
// checked request (status 200, the numbers of predictRows) and a short warm-up run. Exits 1 when
// a target fails, naming it.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Random } from '../src/ml';
import { BENCH_MODEL, LinearModel, predictRows } from './bare-fastify-server';
import {
  call,
  load,
  loadEach,
  LoadResult,
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARM_UP_SECONDS = 2;
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

/** One load run; without `result` when the checked request failed, `failure` saying why. */
interface Run {
  name: string;
  rowsPerRequest: number;
  warmUp?: LoadResult;
  result?: LoadResult;
  failure?: string;
}

interface Scenario {
  name: string;
  rowsPerRequest: number;
  connections: number;
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
      headers: { 'content-type': 'application/json' },
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

async function measure(scenario: Scenario): Promise<Run> {
  const { name, rowsPerRequest, connections } = scenario;
  progress(`${name}: ${connections} connections, ${WARM_UP_SECONDS} s warm-up + ${SECONDS} s`);
  const failure = await scenario.check();
  if (failure) {
    progress(`  check failed: ${failure}`);
    return { name, rowsPerRequest, failure };
  }
  const warmUp = await scenario.drive({ connections, seconds: WARM_UP_SECONDS });
  const result = await scenario.drive({ connections, seconds: SECONDS });
  progress(`  ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99} ms`);
  return { name, rowsPerRequest, warmUp, result };
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
      return { baseUrl, stop };
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

async function benchBareFastify(single: Payload, batch: Payload) {
  const server = await startChild(
    process.execPath,
    [path.join(ROOT, 'dist', 'bench', 'bare-fastify-server.js'), String(PORTS.bare)],
    PORTS.bare,
  );
  try {
    const url = `${server.baseUrl}/predict`;
    return {
      single: await measure(post('bare Fastify, 1 row', url, single, CONNECTIONS, predictionsOf)),
      batch: await measure(
        post(
          `bare Fastify, ${integer(BATCH_ROWS)}-row batch`,
          url,
          batch,
          BATCH_CONNECTIONS,
          predictionsOf,
        ),
      ),
    };
  } finally {
    await server.stop();
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

async function benchFlask(gunicorn: string, single: Payload): Promise<Run> {
  let server: Child;
  try {
    server = await startChild(gunicorn, GUNICORN_ARGS.split(' '), PORTS.flask);
  } catch (error) {
    return { name: FLASK_SINGLE, rowsPerRequest: 1, failure: message(error) };
  }
  try {
    return await measure(
      post(FLASK_SINGLE, `${server.baseUrl}/predict`, single, CONNECTIONS, predictionsOf),
    );
  } finally {
    await server.stop();
  }
}

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

/** Scenario 4: a registry of 1,000 models, single rows round-robin over all of them, and one. */
async function benchRegistry(service: Service, rows: number[][]) {
  const names = Array.from({ length: REGISTRY_MODELS }, (_, i) => `m${String(i).padStart(4, '0')}`);
  const spreadName = `ModelDock v1 predict, 1 row, round-robin over ${integer(REGISTRY_MODELS)} models`;
  const oneName = `ModelDock v1 predict, 1 row, one of ${integer(REGISTRY_MODELS)} models`;
  progress(`registering ${REGISTRY_MODELS} models × ${REGISTRY_VERSIONS} versions`);
  const started = performance.now();
  try {
    await registerModels(service, names);
  } catch (error) {
    const failure = `registration failed: ${message(error)}`;
    progress(`  ${failure}`);
    const failed = (name: string): Run => ({ name, rowsPerRequest: 1, failure });
    return { spread: failed(spreadName), one: failed(oneName), registrationMs: undefined };
  }
  const registrationMs = performance.now() - started;
  const body = JSON.stringify({ instances: rows });
  const spread = await measure({
    name: spreadName,
    rowsPerRequest: 1,
    connections: CONNECTIONS,
    check: () => predictEveryModel(service, names, rows),
    drive: (options) =>
      loadEach(
        service.baseUrl,
        names.map((name) => ({ path: `/v1/models/${name}/predict`, body })),
        options,
      ),
  });
  const one = await measure(
    post(
      oneName,
      `${service.baseUrl}/v1/models/${names[0]}/predict`,
      v1Payload(rows, registryModel(0, REGISTRY_VERSIONS)),
      CONNECTIONS,
      predictionsOf,
    ),
  );
  return { spread, one, registrationMs, loadedRss: rssBytes(service.pid) };
}

async function benchModelDock(rows: { single: number[][]; batch: number[][] }) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-serve-'));
  try {
    const service = await startService(PORTS.modelDock, {}, dataDir);
    try {
      const idleRss = rssBytes(service.pid);
      await call(service.baseUrl, 'POST', `/v1/models/${MODEL}/versions`, {
        artifact: artifact(BENCH_MODEL),
        alias: 'production',
      });
      const v1 = `${service.baseUrl}/v1/models/${MODEL}/predict`;
      const v2 = `${service.baseUrl}/v2/models/${MODEL}/infer`;
      const single = await measure(
        post('ModelDock v1 predict, 1 row', v1, v1Payload(rows.single), CONNECTIONS, predictionsOf),
      );
      const batch = await measure(
        post(
          `ModelDock v1 predict, ${integer(BATCH_ROWS)}-row batch`,
          v1,
          v1Payload(rows.batch),
          BATCH_CONNECTIONS,
          predictionsOf,
        ),
      );
      const infer = await measure(
        post('ModelDock V2 infer, 1 row', v2, v2Payload(rows.single), CONNECTIONS, v2OutputOf),
      );
      return { idleRss, single, batch, infer, registry: await benchRegistry(service, rows.single) };
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---- the report

interface Row {
  scenario: string;
  /** Its measurements fill the row; absent on a further target of the run above. */
  run?: Run;
  ratio: string;
  target: string;
  result: 'PASS' | 'FAIL' | 'SKIP';
}

function errorCount(run: Run): number {
  return (run.warmUp?.errors ?? 0) + (run.result?.errors ?? 0);
}

const succeeded = (run: Run | undefined) => !!run?.result && errorCount(run) === 0;
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
const perSecond = (run: Run, unit: 'req' | 'rows') =>
  run.result!.requestsPerSecond * (unit === 'rows' ? run.rowsPerRequest : 1);

function baselineRow(run: Run): Row {
  return {
    scenario: run.name,
    run,
    ratio: '',
    target: 'baseline',
    result: verdict(succeeded(run)),
  };
}

/** `run`'s req/s or rows/s over `baseline`'s, at least `min`. */
function ratioRow(
  scenario: string,
  run: Run,
  show: boolean,
  baseline: { run: Run; label: string },
  unit: 'req' | 'rows',
  min: number,
): Row {
  const ok = succeeded(run) && succeeded(baseline.run);
  const ratio = ok ? perSecond(run, unit) / perSecond(baseline.run, unit) : undefined;
  return {
    scenario,
    run: show ? run : undefined,
    ratio: ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}× ${baseline.label}`,
    target: `≥ ${min}× ${baseline.label} ${unit}/s`,
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

/**
 * The error count, warm-up included, split into statuses and connection errors; or why the run
 * did not happen.
 */
function errorsCell(run: Run): string {
  if (run.failure) return `check failed: ${run.failure}`;
  const total = errorCount(run);
  const statuses: Record<string, number> = {};
  let non2xx = 0;
  for (const result of [run.warmUp, run.result]) {
    for (const [status, count] of Object.entries(result?.statusCodes ?? {})) {
      if (status.startsWith('2')) continue;
      statuses[status] = (statuses[status] ?? 0) + count;
      non2xx += count;
    }
  }
  const detail = Object.entries(statuses).map(([status, count]) => `HTTP ${status} × ${count}`);
  if (total > non2xx) detail.push(`${total - non2xx} connection errors or timeouts`);
  return detail.length ? `${total} (${detail.join(', ')})` : '0';
}

function renderRow(row: Row): string {
  const r = row.run?.result;
  const measured = row.run
    ? [
        r ? integer(r.requestsPerSecond) : '—',
        r ? integer(r.requestsPerSecond * row.run.rowsPerRequest) : '—',
        r ? String(r.p50) : '—',
        r ? String(r.p99) : '—',
        errorsCell(row.run),
      ]
    : ['', '', '', '', ''];
  return `| ${[row.scenario, ...measured, row.ratio, row.target, row.result].map(cell).join(' | ')} |`;
}

async function main(): Promise<void> {
  const rows = { single: randomRows(1, 7), batch: randomRows(BATCH_ROWS, 2024) };
  const single = v1Payload(rows.single);
  const batch = v1Payload(rows.batch);

  const bare = await benchBareFastify(single, batch);
  const gunicorn = findGunicorn();
  let flask: Run | undefined;
  if ('skipped' in gunicorn) progress(`Flask skipped: ${gunicorn.skipped}`);
  else flask = await benchFlask(gunicorn.gunicorn, single);
  const md = await benchModelDock(rows);

  const bareSingle = { run: bare.single, label: 'bare' };
  const v1Single = { run: md.single, label: 'v1 1-row' };
  const p99 = succeeded(md.single) ? md.single.result!.p99 : undefined;
  const table: Row[] = [
    baselineRow(bare.single),
    flask
      ? baselineRow(flask)
      : { scenario: FLASK_SINGLE, ratio: '', target: 'baseline', result: 'SKIP' },
    baselineRow(bare.batch),
    ratioRow(`1. ${md.single.name}`, md.single, true, bareSingle, 'req', TARGETS.singleVsBare),
    {
      scenario: `1. ↳ p99 at ${CONNECTIONS} connections`,
      ratio: p99 === undefined ? 'n/a' : `${p99} ms`,
      target: `≤ ${TARGETS.singleP99Ms} ms`,
      result: verdict(p99 !== undefined && p99 <= TARGETS.singleP99Ms),
    },
    flask
      ? ratioRow(
          '1. ↳ vs Flask',
          md.single,
          false,
          { run: flask, label: 'Flask' },
          'req',
          TARGETS.singleVsFlask,
        )
      : {
          scenario: '1. ↳ vs Flask',
          ratio: 'n/a',
          target: `≥ ${TARGETS.singleVsFlask}× Flask req/s`,
          result: 'SKIP',
        },
    ratioRow(
      `2. ${md.batch.name}`,
      md.batch,
      true,
      { run: bare.batch, label: 'bare' },
      'rows',
      TARGETS.batchVsBare,
    ),
    ratioRow(`3. ${md.infer.name}`, md.infer, true, v1Single, 'req', TARGETS.v2VsV1),
    ratioRow(
      `4. ${md.registry.spread.name}`,
      md.registry.spread,
      true,
      v1Single,
      'req',
      TARGETS.registryVsV1,
    ),
    ratioRow(
      `4. ${md.registry.one.name}`,
      md.registry.one,
      true,
      v1Single,
      'req',
      TARGETS.registryVsV1,
    ),
    rssRow('5. ModelDock RSS, idle after start-up', md.idleRss, TARGETS.idleRss),
    rssRow(
      `5. ModelDock RSS, ${integer(REGISTRY_MODELS)} versions loaded and served`,
      md.registry.loadedRss,
      TARGETS.loadedRss,
    ),
  ];

  const registration = md.registry.registrationMs;
  const failed = table.filter((row) => row.result === 'FAIL');
  const lines = [
    `ModelDock serving benchmark: linear model, ${FEATURES} features; autocannon at ${CONNECTIONS} connections ` +
      `(${BATCH_CONNECTIONS} for ${integer(BATCH_ROWS)}-row batches), ${WARM_UP_SECONDS} s warm-up + ${SECONDS} s per run, one server at a time.`,
    ...('skipped' in gunicorn ? [`Flask skipped: ${gunicorn.skipped}.`] : []),
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
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:serve failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
