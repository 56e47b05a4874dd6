// npm run bench:soak — a long run of mixed load on the production build (not part of `npm test`):
// - predictions at a steady, paced rate (SOAK_RATE per second, spread evenly, not saturating):
//   v1 predict single rows and small batches, by the default `production` alias, a pinned
//   `?version=1` and `?alias=staging`, and Open Inference Protocol (V2) infer, on a regression and
//   a classification model; every answer is checked (status, shape, the answering version);
// - a training job every few seconds (linear regression by gradient descent and by the normal
//   equation, logistic regression), each of which must succeed and register a new version (and
//   move `staging` to it);
// - alias moves: `production` promoted to the newest version or rolled back to an older one about
//   every second, alternating between the models, while predictions keep flowing. A prediction
//   sent after a move's response (and before the next move) must be answered by the new version;
// - occasional reads: models, versions, events, jobs, datasets, V2 metadata, /metrics.
// Every window (SOAK_WINDOW_SECONDS) prints a progress line to stderr; at the end a table per
// window (requests, errors, p50/p99 prediction latency, the service's RSS and JS heap, …) and a
// summary. Targets: no errors at all (any non-2xx, socket error, timeout, wrong answer or failed
// job), and RSS at the end within ±10% of RSS right after the warm-up. p99 over time is reported.
// Exits 1 when a target fails, 130 when interrupted (Ctrl-C: the table so far, then clean-up).
//
// Environment: SOAK_SECONDS (600), SOAK_WARMUP_SECONDS (120), SOAK_RATE (500 predictions/s),
// SOAK_WINDOW_SECONDS (30; shorter for short runs), SOAK_CONNECTIONS (16 keep-alive sockets),
// SOAK_TRAIN_EVERY_SECONDS (3), SOAK_ALIAS_EVERY_SECONDS (1), SOAK_READ_EVERY_SECONDS (2),
// BENCH_PORT (3300), BENCH_LOG_LEVEL (warn).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Random } from '../src/ml';
import { cpuSeconds, mib, progress, rssBytes, Service, startService } from './support';

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number ≥ ${min}; got "${raw}"`);
  }
  return value;
}

const DURATION_S = envNumber('SOAK_SECONDS', 600, 1);
const WARM_UP_S = envNumber('SOAK_WARMUP_SECONDS', 120, 0);
const RATE = envNumber('SOAK_RATE', 500, 1);
/** 30 s windows for the full run; about a tenth of a short run, in steps of 5 s. */
const WINDOW_S = envNumber(
  'SOAK_WINDOW_SECONDS',
  Math.min(30, Math.max(5, Math.round(DURATION_S / 10 / 5) * 5)),
  1,
);
const CONNECTIONS = envNumber('SOAK_CONNECTIONS', 16, 1);
const TRAIN_EVERY_S = envNumber('SOAK_TRAIN_EVERY_SECONDS', 3, 0.1);
const ALIAS_EVERY_S = envNumber('SOAK_ALIAS_EVERY_SECONDS', 1, 0.05);
const READ_EVERY_S = envNumber('SOAK_READ_EVERY_SECONDS', 2, 0.05);
const PORT = envNumber('BENCH_PORT', 3300, 1);
/** Beyond this many predictions in flight the service has stalled: further ones are not sent. */
const MAX_IN_FLIGHT = 512;
const REQUEST_TIMEOUT_MS = 10_000;
/** Pacer tick: RATE / 200 requests each, so the load is spread over the second. */
const TICK_MS = 5;
const RSS_TOLERANCE = 0.1;
/** RSS is compared as means over this long (or a third of the time after the warm-up, if less). */
const RSS_SPAN_S = 60;
/** /metrics is scraped this often for the heap, GC time and the service's event-loop delay. */
const METRICS_EVERY_S = 2;
const LOOP_DELAY_RESOLUTION_MS = 10;
/** How long to wait, after the run, for predictions in flight and a training job to finish. */
const DRAIN_MS = 60_000;

const FEATURES = 5;
const FEATURE_NAMES = Array.from({ length: FEATURES }, (_, j) => `x${j}`);
const REGRESSION_ROWS = 5_000;
const CLASSIFICATION_ROWS = 3_000;
const CLASSES = ['low', 'mid', 'high'];
const MODELS = { regression: 'soak-regression', classifier: 'soak-classifier' } as const;
type ModelName = (typeof MODELS)[keyof typeof MODELS];

const ADMIN_KEY = randomBytes(32).toString('hex');
const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };
const SERVICE_ENV = {
  MODELDOCK_ADMIN_KEY: ADMIN_KEY,
  RATE_LIMIT_PREDICT_PER_MINUTE: '10000000',
  RATE_LIMIT_MANAGEMENT_PER_MINUTE: '1000000',
};

const random = new Random(20_260_601);
const uniform = () => (random.nextUint32() + 0.5) / 4294967296;
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
const round6 = (value: number) => Number(value.toFixed(6));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

// ---- what is going on, per window

interface Window {
  index: number;
  /** Seconds since the load started. */
  start: number;
  end: number;
  warmUp: boolean;
  predictions: number;
  /** Milliseconds from sending a prediction to the end of its answer, answered ones only. */
  latencies: number[];
  errors: number;
  trainings: number;
  trainingMs: number[];
  aliasMoves: number;
  reads: number;
  /** Distinct `model@version`s that answered default (production) predictions. */
  served: Set<string>;
  versionsRegistered?: number;
  rss?: number;
  rssMax: number;
  /** RSS sampled 4 times a second: the mean rides out the garbage collector's sawtooth. */
  rssSum: number;
  rssSamples: number;
  rssMin: number;
  /** From /metrics scraped every METRICS_EVERY_S: the JS heap in use (its least ≈ the live heap). */
  heapMin?: number;
  heapMax?: number;
  metricsBytes?: number;
  /** Garbage-collection time in the window and the service's longest event-loop delay (/metrics). */
  gcMs: number;
  serviceLoopDelayMs?: number;
  /** Cores used by the service, and by every other process but this one (the machine is shared). */
  cpu?: number;
  otherCpu?: number;
}

interface ErrorKind {
  count: number;
  first: string;
  firstAt: number;
}

const errors = new Map<string, ErrorKind>();
/** The service's RSS, 4 times a second, at seconds since the load started. */
const rssSeries: { t: number; value: number }[] = [];
/** The service's JS heap in use, every METRICS_EVERY_S. */
const heapSeries: { t: number; value: number }[] = [];
/**
 * RSS less the main thread's committed V8 heap, at the same times: native memory (SQLite,
 * buffers, malloc) and the training worker thread's heap.
 */
const outsideHeapSeries: { t: number; value: number }[] = [];
const windows: Window[] = [];
let current: Window | undefined;
let loadStarted = 0;
/** The service's RSS when the load started: the baseline when there is no warm-up. */
let rssAtStart: number | undefined;
const elapsedS = () => (performance.now() - loadStarted) / 1000;

function newWindow(index: number, start: number, end: number): Window {
  return {
    index,
    start,
    end,
    warmUp: end <= WARM_UP_S + 1e-9,
    predictions: 0,
    latencies: [],
    errors: 0,
    trainings: 0,
    trainingMs: [],
    aliasMoves: 0,
    reads: 0,
    served: new Set(),
    rssMax: 0,
    rssSum: 0,
    rssSamples: 0,
    rssMin: Infinity,
    gcMs: 0,
  };
}

/** Window boundaries: every WINDOW_S, with one at the end of the warm-up. */
function boundaries(): number[] {
  const ends: number[] = [];
  let t = 0;
  const warmUp = Math.min(WARM_UP_S, DURATION_S);
  while (t < warmUp) ends.push((t = Math.min(t + WINDOW_S, warmUp)));
  while (t < DURATION_S) ends.push((t = Math.min(t + WINDOW_S, DURATION_S)));
  return ends;
}

function recordError(kind: string, detail: string): void {
  const known = errors.get(kind);
  if (known) known.count++;
  else errors.set(kind, { count: 1, first: detail.slice(0, 300), firstAt: elapsedS() });
  if (current) current.errors++;
}

// ---- data and models

interface Dataset {
  columns: string[];
  rows: (number | string)[][];
}

const WEIGHTS = [1.5, -2, 0.75, 3, -1.25];

function regressionData(): Dataset {
  const rows = Array.from({ length: REGRESSION_ROWS }, () => {
    const x = FEATURE_NAMES.map(() => round6(normal()));
    const y = 4 + x.reduce((sum, value, j) => sum + WEIGHTS[j] * value, 0) + 0.5 * normal();
    return [...x, round6(y)];
  });
  return { columns: [...FEATURE_NAMES, 'y'], rows };
}

function classificationData(): Dataset {
  const rows = Array.from({ length: CLASSIFICATION_ROWS }, () => {
    const x = FEATURE_NAMES.map(() => round6(normal()));
    const signal = x.reduce((sum, value, j) => sum + WEIGHTS[j] * value, 0) / 3 + 0.3 * normal();
    return [...x, signal < -0.5 ? CLASSES[0] : signal > 0.5 ? CLASSES[2] : CLASSES[1]];
  });
  return { columns: [...FEATURE_NAMES, 'label'], rows };
}

const instances = (count: number) =>
  Array.from({ length: count }, () => FEATURE_NAMES.map(() => round6(2 * normal())));

/** The versions each model has, in registration order; the alias mover picks among them. */
const versions: Record<ModelName, number[]> = {
  [MODELS.regression]: [],
  [MODELS.classifier]: [],
};
/**
 * Whether a job of the model is being trained: on success the service moves `staging` to the new
 * version just before the job reads `succeeded`, so `?alias=staging` may meet it first.
 */
const training: Record<ModelName, boolean> = {
  [MODELS.regression]: false,
  [MODELS.classifier]: false,
};

/**
 * Where `production` points, as far as a client can know: `moves` lists the versions it was moved
 * to, in the order the moves were sent; `settled` from a move's response until the next move is
 * sent. A prediction sent while settled must be answered by the last move's version, or by a later
 * one (a move sent after the prediction may still reach the service first).
 */
const production: Record<ModelName, { moves: number[]; settled: boolean }> = {
  [MODELS.regression]: { moves: [], settled: true },
  [MODELS.classifier]: { moves: [], settled: true },
};
const productionVersion = (model: ModelName) => production[model].moves.at(-1);

// ---- management calls (low rate; fetch)

interface Answer {
  status: number;
  json: any;
  text: string;
}

let baseUrl = '';

async function api(method: string, url: string, body?: unknown): Promise<Answer> {
  const response = await fetch(baseUrl + url, {
    method,
    headers: body === undefined ? AUTH : { ...AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

/** The problem detail (or V2 `error`) of an answer, for error reports. */
function detailOf(answer: { json?: any; text: string }): string {
  const json = answer.json;
  return String(json?.detail ?? json?.error ?? answer.text).slice(0, 200);
}

/** Calls the API and records an error (kind `<operation>: HTTP <status>`) unless it answers `ok`. */
async function expect(
  operation: string,
  ok: number,
  method: string,
  url: string,
  body?: unknown,
): Promise<Answer | undefined> {
  try {
    const answer = await api(method, url, body);
    if (answer.status === ok) return answer;
    recordError(`${operation}: HTTP ${answer.status}`, `${method} ${url}: ${detailOf(answer)}`);
  } catch (error) {
    recordError(`${operation}: ${errorCode(error)}`, `${method} ${url}: ${message(error)}`);
  }
  return undefined;
}

function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause;
  const code = (error as { code?: string })?.code ?? cause?.code;
  if (code) return `socket ${code}`;
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  return error instanceof Error ? error.name : 'error';
}

// ---- training

interface TrainingSpec {
  label: string;
  model: ModelName;
  dataset: 'regression' | 'classification';
  target: string;
  algorithm: string;
  hyperparameters: Record<string, unknown>;
}

const TRAININGS: TrainingSpec[] = [
  {
    label: 'linear-regression gradient-descent',
    model: MODELS.regression,
    dataset: 'regression',
    target: 'y',
    algorithm: 'linear-regression',
    hyperparameters: { optimizer: 'gradient-descent', learningRate: 0.05, epochs: 300 },
  },
  {
    label: 'linear-regression normal-equation',
    model: MODELS.regression,
    dataset: 'regression',
    target: 'y',
    algorithm: 'linear-regression',
    hyperparameters: { optimizer: 'normal-equation' },
  },
  {
    label: 'logistic-regression lbfgs',
    model: MODELS.classifier,
    dataset: 'classification',
    target: 'label',
    algorithm: 'logistic-regression',
    hyperparameters: {},
  },
];

const datasetIds = { regression: '', classification: '' };

/** Runs one job to its end; the new version, or undefined (with the error recorded). */
async function train(spec: TrainingSpec, seed: number, alias: string, stopPolling: () => boolean) {
  const kind = `train ${spec.label}`;
  const started = performance.now();
  const created = await expect(`${kind} (POST)`, 202, 'POST', '/v1/training-jobs', {
    model: spec.model,
    dataset: datasetIds[spec.dataset],
    target: spec.target,
    algorithm: spec.algorithm,
    hyperparameters: spec.hyperparameters,
    validationSplit: 0.2,
    seed,
    alias,
    tags: { source: 'bench-soak' },
  });
  if (!created) return undefined;
  let job = created.json;
  while (job.status === 'queued' || job.status === 'running') {
    if (stopPolling()) return undefined;
    await sleep(100);
    const polled = await expect(`${kind} (GET job)`, 200, 'GET', `/v1/training-jobs/${job.id}`);
    if (!polled) return undefined;
    job = polled.json;
  }
  if (job.status !== 'succeeded' || !Number.isInteger(job.modelVersion)) {
    recordError(`${kind}: job ${job.status}`, `job ${job.id}: ${job.error ?? 'no modelVersion'}`);
    return undefined;
  }
  return { version: job.modelVersion as number, ms: performance.now() - started };
}

// ---- predictions (paced, node:http keep-alive sockets)

interface PredictSpec {
  label: string;
  model: ModelName;
  path: string;
  body: string;
  rows: number;
  protocol: 'v1' | 'v2';
  /** Default route: answered by `production`. */
  byProduction: boolean;
  pinned?: number;
}

function v1(label: string, model: ModelName, rows: number, query = '', records = false) {
  const data = instances(rows);
  const body = records
    ? data.map((row) => Object.fromEntries(row.map((value, j) => [FEATURE_NAMES[j], value])))
    : data;
  return {
    label,
    model,
    path: `/v1/models/${model}/predict${query}`,
    body: JSON.stringify({ instances: body }),
    rows,
    protocol: 'v1' as const,
    byProduction: query === '',
  };
}

function v2(label: string, model: ModelName, rows: number): PredictSpec {
  const input = {
    name: 'input-0',
    shape: [rows, FEATURES],
    datatype: 'FP64',
    data: instances(rows),
  };
  return {
    label,
    model,
    path: `/v2/models/${model}/infer`,
    body: JSON.stringify({ inputs: [input] }),
    rows,
    protocol: 'v2',
    byProduction: true,
  };
}

/** Sent in turn: 6 of 8 by `production`, one pinned to version 1, one by `staging`. */
const MIX: PredictSpec[] = [
  v1('v1 regression 1 row', MODELS.regression, 1),
  v1('v1 classifier 1 row (records)', MODELS.classifier, 1, '', true),
  v2('V2 regression 1 row', MODELS.regression, 1),
  v1('v1 regression 10 rows', MODELS.regression, 10),
  { ...v1('v1 regression ?version=1', MODELS.regression, 1, '?version=1'), pinned: 1 },
  v1('v1 classifier 10 rows', MODELS.classifier, 10),
  v2('V2 classifier 4 rows', MODELS.classifier, 4),
  v1('v1 classifier ?alias=staging 1 row', MODELS.classifier, 1, '?alias=staging'),
];

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
let inFlight = 0;

/** What is wrong with an answer with status 200, or undefined. */
function checkAnswer(spec: PredictSpec, text: string, header: unknown, allowed?: number[]) {
  let answer: any;
  try {
    answer = JSON.parse(text);
  } catch {
    return { kind: 'not JSON', detail: text.slice(0, 120) };
  }
  const version = spec.protocol === 'v1' ? answer.version : Number(answer.model_version);
  const known = versions[spec.model];
  const beingRegistered = training[spec.model] && version > known[known.length - 1];
  if (!Number.isInteger(version) || !(known.includes(version) || beingRegistered)) {
    return { kind: 'unknown version', detail: `version ${JSON.stringify(version)}` };
  }
  if (spec.protocol === 'v1') {
    if (header !== String(version)) {
      return { kind: 'X-Model-Version mismatch', detail: `header ${header}, body ${version}` };
    }
    const predictions = answer.predictions;
    if (!Array.isArray(predictions) || predictions.length !== spec.rows) {
      return { kind: 'wrong predictions', detail: JSON.stringify(predictions)?.slice(0, 120) };
    }
    const valid =
      spec.model === MODELS.regression
        ? predictions.every((p: unknown) => typeof p === 'number' && Number.isFinite(p))
        : predictions.every((p: unknown) => CLASSES.includes(p as string)) &&
          Array.isArray(answer.probabilities) &&
          answer.probabilities.length === spec.rows;
    if (!valid) return { kind: 'wrong predictions', detail: text.slice(0, 120) };
  } else {
    const output = answer.outputs?.[0];
    if (!output || output.shape?.[0] !== spec.rows || !Array.isArray(output.data)) {
      return { kind: 'wrong outputs', detail: text.slice(0, 120) };
    }
  }
  if (allowed !== undefined && !allowed.includes(version)) {
    return {
      kind: spec.pinned ? 'wrong pinned version' : 'stale version after an alias move',
      detail: `answered by version ${version}, expected ${allowed.join(' or ')}`,
    };
  }
  if (spec.byProduction && current) current.served.add(`${spec.model}@${version}`);
  return undefined;
}

function sendPrediction(spec: PredictSpec): void {
  const state = production[spec.model];
  // The moves from the last acknowledged one on, read when the answer comes.
  const from = state.moves.length - 1;
  const settledAtSend = state.settled;
  const allowed = () =>
    spec.pinned !== undefined
      ? [spec.pinned]
      : spec.byProduction && settledAtSend
        ? state.moves.slice(from)
        : undefined;
  const kind = `predict ${spec.label}`;
  inFlight++;
  let done = false;
  const finish = () => {
    if (done) return false;
    done = true;
    inFlight--;
    if (current) current.predictions++;
    return true;
  };
  const started = performance.now();
  const request = http.request(
    {
      agent,
      host: '127.0.0.1',
      port: PORT,
      method: 'POST',
      path: spec.path,
      headers: { ...AUTH, 'content-type': 'application/json' },
      timeout: REQUEST_TIMEOUT_MS,
    },
    (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => {
        if (finish()) recordError(`${kind}: ${errorCode(error)}`, message(error));
      });
      response.on('end', () => {
        if (!finish()) return;
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          recordError(`${kind}: HTTP ${status}`, detailOf({ json, text }));
          return;
        }
        const wrong = checkAnswer(spec, text, response.headers['x-model-version'], allowed());
        if (wrong) recordError(`${kind}: ${wrong.kind}`, wrong.detail);
        else current?.latencies.push(ms);
      });
    },
  );
  request.on('timeout', () =>
    request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
  );
  request.on('error', (error) => {
    if (finish()) recordError(`${kind}: ${errorCode(error)}`, message(error));
  });
  request.end(spec.body);
}

/** Sends RATE predictions per second, evenly spread, until `stop` is called. */
function pace(): { stop(): void } {
  const started = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    while (sent < due) {
      if (inFlight >= MAX_IN_FLIGHT) {
        const skipped = due - sent;
        for (let i = 0; i < skipped; i++) {
          recordError(
            'predict: not sent (the service stalled)',
            `${MAX_IN_FLIGHT} predictions already in flight`,
          );
        }
        sent = due;
        break;
      }
      sendPrediction(MIX[sent % MIX.length]);
      sent++;
    }
  }, TICK_MS);
  return { stop: () => clearInterval(timer) };
}

// ---- the other loops

/** Calls `body` every `seconds` (or right after it when it took longer) until `stopped()`. */
async function every(seconds: number, stopped: () => boolean, body: () => Promise<void>) {
  let next = performance.now();
  while (!stopped()) {
    try {
      await body();
    } catch (error) {
      recordError(`bench: ${message(error)}`, error instanceof Error ? String(error.stack) : '');
    }
    next += seconds * 1000;
    const now = performance.now();
    if (next < now) next = now;
    while (!stopped() && performance.now() < next) {
      await sleep(Math.min(100, next - performance.now()));
    }
  }
}

function trainingLoop(stopped: () => boolean, aborted: () => boolean): Promise<void> {
  let n = 0;
  return every(TRAIN_EVERY_S, stopped, async () => {
    const spec = TRAININGS[n % TRAININGS.length];
    n++;
    training[spec.model] = true;
    const result = await train(spec, n, 'staging', aborted).finally(
      () => (training[spec.model] = false),
    );
    if (!result) return;
    versions[spec.model].push(result.version);
    if (current) {
      current.trainings++;
      current.trainingMs.push(result.ms);
    }
  });
}

function aliasLoop(stopped: () => boolean): Promise<void> {
  const names = Object.values(MODELS);
  let n = 0;
  return every(ALIAS_EVERY_S, stopped, async () => {
    const model = names[n++ % names.length];
    const list = versions[model];
    const state = production[model];
    const serving = productionVersion(model);
    const others = list.filter((v) => v !== serving);
    if (others.length === 0) return;
    // Promote the newest version half the time; otherwise roll back to any other.
    const newest = list[list.length - 1];
    const target =
      newest !== serving && random.nextUint32() % 2 === 0
        ? newest
        : others[random.nextInt(others.length)];
    state.settled = false;
    state.moves.push(target);
    const url = `/v1/models/${model}/aliases/production`;
    const moved = await expect('alias move (PUT)', 200, 'PUT', url, { version: target });
    if (!moved) return; // unknown where it points now: predictions stay unchecked
    if (moved.json?.version !== target) {
      recordError('alias move (PUT): wrong version', `asked ${target}, got ${moved.text}`);
      return;
    }
    state.settled = true;
    if (current) current.aliasMoves++;
    const read = await expect('alias read (GET)', 200, 'GET', url);
    if (read && read.json?.version !== target) {
      recordError('alias read (GET): wrong version', `moved to ${target}, read ${read.text}`);
    }
  });
}

function readLoop(stopped: () => boolean): Promise<void> {
  const r = MODELS.regression;
  const c = MODELS.classifier;
  const reads = [
    '/v1/models',
    `/v1/models/${r}`,
    `/v1/models/${r}/versions?limit=50`,
    `/v1/models/${c}/events?limit=50`,
    '/v1/training-jobs?limit=50',
    `/v1/models/${c}/versions/1`,
    `/v1/models/${c}/versions?limit=500`,
    `/v1/models/${r}/events?limit=500`,
    '/v1/datasets',
    `/v2/models/${r}`,
    `/v2/models/${c}/ready`,
    '/health/ready',
  ];
  let n = 0;
  return every(READ_EVERY_S, stopped, async () => {
    const url = reads[n++ % reads.length];
    const answer = await expect(`read GET ${url.split('?')[0]}`, 200, 'GET', url);
    if (answer && current) current.reads++;
  });
}

interface MetricsSnapshot {
  bytes: number;
  heapUsed?: number;
  heapTotal?: number;
  /** Cumulative, over every kind. */
  gcSeconds?: number;
  /** Since the previous scrape: prom-client resets its event-loop histogram on each. */
  loopDelaySeconds?: number;
}

/** Sums the samples of a metric (over its labels) in a Prometheus text exposition. */
function metricValue(text: string, name: string): number | undefined {
  const pattern = new RegExp(`^${name}(?:\\{[^}]*\\})? ([-0-9.e+]+|NaN)$`, 'gm');
  let sum: number | undefined;
  for (const match of text.matchAll(pattern)) sum = (sum ?? 0) + Number(match[1]);
  return sum;
}

/**
 * Heap in use, GC time, event-loop delay and the size of the exposition, from /metrics
 * (prom-client's default metrics). Only these window snapshots scrape /metrics, so that the
 * event-loop figures cover the window.
 */
async function metricsSnapshot(): Promise<MetricsSnapshot | undefined> {
  const answer = await expect('read GET /metrics', 200, 'GET', '/metrics');
  if (!answer) return undefined;
  const text = answer.text;
  const max = metricValue(text, 'nodejs_eventloop_lag_max_seconds');
  const min = metricValue(text, 'nodejs_eventloop_lag_min_seconds');
  return {
    bytes: Buffer.byteLength(text),
    heapUsed: metricValue(text, 'nodejs_heap_size_used_bytes'),
    heapTotal: metricValue(text, 'nodejs_heap_size_total_bytes'),
    gcSeconds: metricValue(text, 'nodejs_gc_duration_seconds_sum'),
    // The histogram holds intervals between ticks of its timer: the delay is what exceeds the least.
    loopDelaySeconds: max !== undefined && min !== undefined ? Math.max(0, max - min) : undefined,
  };
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat (Linux). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  const ticks = fields.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
  const busy = ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
  return busy / 100; // USER_HZ
}

// ---- the run

async function seed(): Promise<void> {
  for (const [key, data] of [
    ['regression', regressionData()],
    ['classification', classificationData()],
  ] as const) {
    const answer = await api('POST', '/v1/datasets', { name: `soak-${key}`, ...data });
    if (answer.status !== 201) {
      throw new Error(`uploading the ${key} dataset: HTTP ${answer.status} ${detailOf(answer)}`);
    }
    datasetIds[key] = answer.json.id;
  }
  for (const spec of [TRAININGS[1], TRAININGS[2]]) {
    const result = await train(spec, 0, 'production', () => false);
    if (!result) throw new Error(`seeding ${spec.model}: ${[...errors.keys()].join('; ')}`);
    versions[spec.model].push(result.version);
    production[spec.model].moves.push(result.version);
    const staging = await api('PUT', `/v1/models/${spec.model}/aliases/staging`, {
      version: result.version,
    });
    if (staging.status !== 200) throw new Error(`setting staging: HTTP ${staging.status}`);
  }
  // One of each prediction, checked, before the clock starts.
  for (const spec of MIX) {
    const answer = await fetch(baseUrl + spec.path, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: spec.body,
    });
    const text = await answer.text();
    const wrong =
      answer.status !== 200
        ? { kind: `HTTP ${answer.status}`, detail: text.slice(0, 200) }
        : checkAnswer(spec, text, answer.headers.get('x-model-version') ?? undefined, undefined);
    if (wrong) throw new Error(`checking ${spec.label}: ${wrong.kind}: ${wrong.detail}`);
  }
  if (errors.size > 0) throw new Error(`seeding: ${[...errors.keys()].join('; ')}`);
}

interface Control {
  interrupted: boolean;
  /** Resolves early on Ctrl-C. */
  interrupt: Promise<void>;
}

async function runLoad(service: Service, control: Control): Promise<void> {
  const ends = boundaries();
  loadStarted = performance.now();
  rssAtStart = rssBytes(service.pid);
  current = newWindow(0, 0, ends[0]);
  windows.push(current);
  let stopped = false;
  const isStopped = () => stopped || control.interrupted;
  const isAborted = () => control.interrupted;

  const generatorSeconds = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  let lastCpu = { at: performance.now(), service: cpuSeconds(service.pid) };
  let lastMachine = { busy: machineBusySeconds(), generator: generatorSeconds() };
  let lastGcSeconds = (await metricsSnapshot())?.gcSeconds;
  let scraping = false;
  const scrape = async () => {
    if (scraping || !current) return;
    scraping = true;
    const snapshot = await metricsSnapshot();
    scraping = false;
    const window = current;
    if (!snapshot || !window) return;
    window.reads++;
    window.metricsBytes = snapshot.bytes;
    if (snapshot.heapTotal !== undefined && !serviceGone) {
      try {
        outsideHeapSeries.push({
          t: elapsedS(),
          value: rssBytes(service.pid) - snapshot.heapTotal,
        });
      } catch {
        // gone: the RSS sampler reports it
      }
    }
    if (snapshot.heapUsed !== undefined) {
      heapSeries.push({ t: elapsedS(), value: snapshot.heapUsed });
      window.heapMin = Math.min(window.heapMin ?? Infinity, snapshot.heapUsed);
      window.heapMax = Math.max(window.heapMax ?? 0, snapshot.heapUsed);
    }
    if (snapshot.loopDelaySeconds !== undefined) {
      window.serviceLoopDelayMs = Math.max(
        window.serviceLoopDelayMs ?? 0,
        snapshot.loopDelaySeconds * 1000,
      );
    }
    if (snapshot.gcSeconds !== undefined && lastGcSeconds !== undefined) {
      window.gcMs += (snapshot.gcSeconds - lastGcSeconds) * 1000;
    }
    lastGcSeconds = snapshot.gcSeconds;
  };
  const scraper = setInterval(() => void scrape(), METRICS_EVERY_S * 1000);
  let serviceGone = false;
  const closeWindow = (window: Window, final: boolean) => {
    try {
      window.rss = rssBytes(service.pid);
      window.rssMax = Math.max(window.rssMax, window.rss);
      const now = { at: performance.now(), service: cpuSeconds(service.pid) };
      const machine = { busy: machineBusySeconds(), generator: generatorSeconds() };
      const seconds = (now.at - lastCpu.at) / 1000;
      window.cpu = (now.service - lastCpu.service) / seconds;
      const busy = (machine.busy - lastMachine.busy) / seconds;
      window.otherCpu = Math.max(
        0,
        busy - window.cpu - (machine.generator - lastMachine.generator) / seconds,
      );
      lastCpu = now;
      lastMachine = machine;
    } catch (error) {
      serviceGone = true;
      recordError('service: process gone', message(error));
    }
    window.versionsRegistered =
      versions[MODELS.regression].length + versions[MODELS.classifier].length;
    if (!final) progress(progressLine(window));
  };

  const sampler = setInterval(() => {
    if (!current || serviceGone) return;
    try {
      const rss = rssBytes(service.pid);
      current.rssMax = Math.max(current.rssMax, rss);
      current.rssMin = Math.min(current.rssMin, rss);
      current.rssSum += rss;
      current.rssSamples++;
      rssSeries.push({ t: elapsedS(), value: rss });
    } catch (error) {
      serviceGone = true;
      recordError('service: process gone', message(error));
    }
    const t = elapsedS();
    if (t >= current.end && current.index < ends.length - 1) {
      const closing = current;
      closing.end = t;
      current = newWindow(closing.index + 1, t, ends[closing.index + 1]);
      windows.push(current);
      closeWindow(closing, false);
    }
  }, 250);

  const pacer = pace();
  const loops = Promise.all([
    trainingLoop(isStopped, isAborted),
    aliasLoop(isStopped),
    readLoop(isStopped),
  ]);
  const deadline = sleep(DURATION_S * 1000);
  await Promise.race([
    deadline,
    control.interrupt,
    (async () => {
      while (!serviceGone && !stopped && !control.interrupted) await sleep(250);
    })(),
  ]);
  stopped = true;
  pacer.stop();
  clearInterval(sampler);
  clearInterval(scraper);
  await scrape();
  // The last window's RSS and CPU are taken now, under load; what is still in flight counts in it.
  const last = current;
  last.end = Math.min(last.end, elapsedS());
  closeWindow(last, true);
  progress(
    control.interrupted
      ? 'interrupted: stopping the load'
      : serviceGone
        ? 'the service process is gone: stopping'
        : `load done; waiting for ${inFlight} predictions in flight and the running training job`,
  );
  const drainUntil = performance.now() + DRAIN_MS;
  await Promise.race([loops, control.interrupt, sleep(DRAIN_MS)]);
  while (inFlight > 0 && performance.now() < drainUntil && !control.interrupted) await sleep(20);
  current = undefined;
  await sleep(500); // the last /metrics snapshot
}

// ---- the report

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const ms = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(1));
const mibOr = (bytes: number | undefined) =>
  bytes === undefined ? '—' : (bytes / 1024 / 1024).toFixed(1);

function stats(window: Window) {
  const sorted = [...window.latencies].sort((a, b) => a - b);
  const seconds = Math.max(window.end - window.start, 1e-9);
  return {
    rate: window.predictions / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

function progressLine(window: Window): string {
  const s = stats(window);
  return (
    `${window.end.toFixed(0)} s${window.warmUp ? ' (warm-up)' : ''}: ${window.predictions} predictions ` +
    `(${s.rate.toFixed(0)}/s), p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms, errors ${window.errors}, ` +
    `trainings ${window.trainings}, alias moves ${window.aliasMoves}, versions ${window.versionsRegistered}, ` +
    `RSS ${mibOr(window.rss)} MiB, CPU service ${percent(window.cpu)}, other processes ${percent(window.otherCpu)}`
  );
}

const percent = (cores: number | undefined) =>
  cores === undefined ? '—' : `${(cores * 100).toFixed(0)}%`;

function windowRow(window: Window): string {
  const s = stats(window);
  const meanJob =
    window.trainingMs.length === 0
      ? '—'
      : (window.trainingMs.reduce((a, b) => a + b, 0) / window.trainingMs.length / 1000).toFixed(2);
  const cells = [
    `${window.start.toFixed(0)}–${window.end.toFixed(0)} s${window.warmUp ? ' (warm-up)' : ''}`,
    String(window.predictions),
    s.rate.toFixed(0),
    ms(s.p50),
    ms(s.p99),
    ms(s.max),
    String(window.errors),
    String(window.trainings),
    meanJob,
    String(window.aliasMoves),
    String(window.served.size),
    String(window.reads),
    String(window.versionsRegistered ?? '—'),
    mibOr(window.rss),
    `${mibOr(window.rssSamples ? window.rssMin : undefined)} / ${mibOr(window.rssSamples ? window.rssSum / window.rssSamples : undefined)} / ${mibOr(window.rssMax || undefined)}`,
    `${mibOr(window.heapMin)} – ${mibOr(window.heapMax)}`,
    window.metricsBytes === undefined ? '—' : (window.metricsBytes / 1024).toFixed(0),
    window.gcMs === undefined ? '—' : window.gcMs.toFixed(0),
    ms(window.serviceLoopDelayMs),
    percent(window.cpu),
    percent(window.otherCpu),
  ];
  return `| ${cells.join(' | ')} |`;
}

function report(control: Control, loopDelay: { p99: number; max: number }): boolean {
  const totalErrors = [...errors.values()].reduce((sum, kind) => sum + kind.count, 0);
  const steady = windows.filter((w) => !w.warmUp);
  const warmUpEnd = [...windows].reverse().find((w) => w.warmUp);
  const first = steady[0];
  const last = windows[windows.length - 1];
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  // The garbage collector's sawtooth moves RSS by a quarter within seconds here: the target
  // compares means over spans that hold several of its cycles, right after the warm-up and last.
  const end = last?.end ?? 0;
  const span = Math.min(RSS_SPAN_S, (end - WARM_UP_S) / 3);
  const spans = {
    first: [WARM_UP_S, WARM_UP_S + span],
    last: [end - span, end],
  };
  const over = (series: { t: number; value: number }[], which: 'first' | 'last') => {
    const [from, to] = spans[which];
    const values = series.filter(({ t }) => t >= from && t <= to).map(({ value }) => value);
    if (span <= 0 || values.length === 0) return undefined;
    return {
      mean: values.reduce((sum, value) => sum + value, 0) / values.length,
      min: Math.min(...values),
    };
  };
  const rssStart = over(rssSeries, 'first')?.mean;
  const rssEnd = over(rssSeries, 'last')?.mean;
  const rssChange =
    rssStart !== undefined && rssEnd !== undefined ? rssEnd / rssStart - 1 : undefined;
  const rssPass = rssChange !== undefined && Math.abs(rssChange) <= RSS_TOLERANCE;
  const floors = (series: { t: number; value: number }[]) => {
    const [a, b] = [over(series, 'first')?.min, over(series, 'last')?.min];
    return a === undefined || b === undefined ? 'n/a' : `${mib(a)} → ${mib(b)} (${pct(b / a - 1)})`;
  };
  const instantStart = warmUpEnd?.rss ?? rssAtStart;
  const firstP99 = first ? stats(first).p99 : undefined;
  const lastP99 = last && !last.warmUp ? stats(last).p99 : undefined;
  const allSteady = steady.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const steadySeconds = steady.reduce((sum, w) => sum + (w.end - w.start), 0);
  const steadyRate = steady.reduce((sum, w) => sum + w.predictions, 0) / (steadySeconds || 1);
  const trainings = windows.reduce((sum, w) => sum + w.trainings, 0);
  const moves = windows.reduce((sum, w) => sum + w.aliasMoves, 0);
  const reads = windows.reduce((sum, w) => sum + w.reads, 0);
  const spanText = (which: 'first' | 'last') =>
    `${spans[which][0].toFixed(0)}–${spans[which][1].toFixed(0)} s`;

  const lines = [
    `ModelDock soak: ${DURATION_S} s (warm-up ${WARM_UP_S} s, windows of ${WINDOW_S} s); predictions paced at ` +
      `${RATE}/s over ${CONNECTIONS} keep-alive sockets (${MIX.length} kinds in turn: v1 1-row/10-row/records/pinned/staging, V2 infer), ` +
      `a training job every ${TRAIN_EVERY_S} s, an alias move every ${ALIAS_EVERY_S} s, a read every ${READ_EVERY_S} s, /metrics every ${METRICS_EVERY_S} s.` +
      (control.interrupted ? ' INTERRUPTED: partial figures.' : ''),
    '',
    '| window | predictions | req/s | p50 ms | p99 ms | max ms | errors | trainings | job s (mean) | alias moves | versions served | reads | versions registered | RSS MiB (end) | RSS MiB min / mean / max | JS heap used MiB min – max | /metrics KiB | GC ms | service event-loop delay max ms | service CPU | other processes CPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...windows.map(windowRow),
    '',
    '| check | value | target | result |',
    '| --- | --- | --- | --- |',
    `| errors (predictions, trainings, alias moves, reads) | ${totalErrors} | 0 | ${verdict(totalErrors === 0)} |`,
    `| service RSS after warm-up → end (means over ${spanText('first')} and ${spanText('last')}) | ` +
      `${rssStart === undefined ? '—' : mib(rssStart)} → ${rssEnd === undefined ? '—' : mib(rssEnd)}` +
      ` (${rssChange === undefined ? 'n/a' : pct(rssChange)}) | within ±${RSS_TOLERANCE * 100}% | ${verdict(rssPass)} |`,
    `| service RSS floor (least sample), the same spans | ${floors(rssSeries)} | reported | INFO |`,
    `| service JS heap floor (least of the /metrics samples ≈ live heap), the same spans | ${floors(heapSeries)} | reported: growth here is retained objects | INFO |`,
    `| service RSS outside the main JS heap (RSS − V8 heap committed: native, SQLite, the training worker), floors, the same spans | ${floors(outsideHeapSeries)} | reported | INFO |`,
    `| service RSS at the warm-up's end → at the end (instants) | ${instantStart === undefined ? '—' : mib(instantStart)} → ` +
      `${last?.rss === undefined ? '—' : mib(last.rss)}; max after warm-up ${mib(Math.max(0, ...steady.map((w) => w.rssMax)))} | reported | INFO |`,
    `| prediction p99, first window after warm-up → last | ${ms(firstP99)} ms → ${ms(lastP99)} ms` +
      `${firstP99 && lastP99 ? ` (${(lastP99 / firstP99).toFixed(2)}×)` : ''} | reported, no target | INFO |`,
    `| prediction p50 / p99 / max after warm-up | ${ms(percentile(allSteady, 50))} / ${ms(percentile(allSteady, 99))} / ${ms(allSteady[allSteady.length - 1])} ms | reported | INFO |`,
    `| prediction rate after warm-up | ${steadyRate.toFixed(1)}/s | ${RATE}/s (paced) | INFO |`,
    `| trainings succeeded / alias moves / reads | ${trainings} / ${moves} / ${reads}; ` +
      `${versions[MODELS.regression].length} + ${versions[MODELS.classifier].length} versions | every job succeeds (failures count as errors) | INFO |`,
    `| load generator event-loop delay p99 / max | ${loopDelay.p99.toFixed(1)} / ${loopDelay.max.toFixed(1)} ms | reported (a busy generator inflates latencies) | INFO |`,
    '',
  ];
  if (errors.size > 0) {
    lines.push('Errors by kind (count, first at, first detail):', '');
    for (const [kind, { count, first: detail, firstAt }] of [...errors.entries()].sort(
      (a, b) => b[1].count - a[1].count,
    )) {
      lines.push(
        `- ${kind}: ${count} (first at ${firstAt.toFixed(1)} s: ${detail.replace(/\s+/g, ' ')})`,
      );
    }
    lines.push('');
  }
  const pass = totalErrors === 0 && rssPass;
  lines.push(
    control.interrupted
      ? `INTERRUPTED after ${last ? last.end.toFixed(0) : 0} s: the figures are partial; targets not judged.`
      : pass
        ? 'All targets met.'
        : `FAILED: ${[totalErrors === 0 ? '' : `${totalErrors} errors`, rssPass ? '' : 'RSS not flat within ±10%'].filter(Boolean).join('; ')}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  return pass;
}

async function main(): Promise<number> {
  if (WARM_UP_S >= DURATION_S) throw new Error('SOAK_WARMUP_SECONDS must be below SOAK_SECONDS');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-soak-'));
  let service: Service | undefined;
  let cleaned = false;
  const cleanUpNow = () => {
    // Synchronous: on exit and on a second Ctrl-C.
    if (cleaned) return;
    cleaned = true;
    try {
      if (service) process.kill(service.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const cleanUp = async () => {
    if (cleaned) return;
    if (service) {
      const stopping = service.stop();
      await Promise.race([stopping, sleep(10_000)]);
    }
    cleanUpNow();
  };
  let onInterrupt = () => {};
  const control: Control = {
    interrupted: false,
    interrupt: new Promise<void>((resolve) => (onInterrupt = resolve)),
  };
  let loading = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (control.interrupted || !loading) {
      progress(`${signal}: stopping at once`);
      cleanUpNow();
      process.exit(130);
    }
    progress(`${signal}: stopping the load; the table so far follows (again to quit at once)`);
    control.interrupted = true;
    onInterrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanUpNow);

  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  try {
    progress(`starting the service (data in ${dataDir})`);
    service = await startService(PORT, SERVICE_ENV, dataDir);
    baseUrl = service.baseUrl;
    progress(
      `seeding: ${REGRESSION_ROWS} regression rows, ${CLASSIFICATION_ROWS} classification rows, a version of each model`,
    );
    await seed();
    progress(
      `load for ${DURATION_S} s (warm-up ${WARM_UP_S} s): ${RATE} predictions/s, a training every ${TRAIN_EVERY_S} s, ` +
        `an alias move every ${ALIAS_EVERY_S} s, a read every ${READ_EVERY_S} s`,
    );
    loopDelay.enable();
    loading = true;
    await runLoad(service, control);
    loopDelay.disable();
    // The histogram holds the intervals between its timer's ticks: the delay is what exceeds one.
    const delayMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
    const pass = report(control, {
      p99: delayMs(loopDelay.percentile(99)),
      max: delayMs(loopDelay.max),
    });
    return control.interrupted ? 130 : pass ? 0 : 1;
  } finally {
    agent.destroy();
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench:soak failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
