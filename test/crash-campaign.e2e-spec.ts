/**
 * The crash campaign: one data directory, CYCLES times "start the service, check everything it
 * ever acknowledged, run a scripted concurrent workload, SIGKILL it at a random moment", then one
 * last start and check, and SQLite's own integrity check on the file.
 *
 * The workload uploads datasets (JSON rows or records, CSV; small, large and wide tables), starts
 * training jobs (some long enough to be killed while running, some with `alias`), registers
 * versions from artifacts (some with `alias`), moves aliases between existing versions, asks for
 * a version that does not exist (a refused alias move), and predicts. Every 2xx response received
 * in full is an acknowledged write and goes into a ledger; so does every state read back after a
 * restart (with nothing in flight), since a later restart must not lose it either. After each
 * restart:
 * - datasets: every acknowledged (or seen) one present with its checksum, row count and rows;
 *   nothing but what was uploaded (by unique name), nothing twice;
 * - jobs: every accepted one present; none left `running` from before the kill (interrupted ones
 *   are failed); queued ones run again and end; succeeded ⇔ a version exists for the job, failed
 *   and cancelled have no version; a finished job stays as it was;
 * - versions: every acknowledged one present with its checksum; each model's versions are exactly
 *   1..N (numbers are allocated in the transaction that inserts the version, and nothing is ever
 *   deleted here); each artifact downloads with sha256 = checksum (imports: the coefficients sent);
 *   predictions for fixed instances identical, bit for bit, to the first ones seen;
 * - aliases: each on an existing ready version, and on the latest acknowledged target or the target
 *   of a move (PUT, import or job with `alias`) that was not acknowledged or could have committed
 *   later; the audit trail's latest alias_set agrees.
 * Violations are collected over the whole campaign and reported together at the end.
 *
 * CRASH_CYCLES (default 20) and CRASH_SEED change the campaign; the script and kill delays are
 * reproducible from the seed, the exact interleaving of concurrent requests is not.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Database } from 'sqlite3';
import { onPostgres } from './support/test-database';
import { housingArtifact } from './support/fixtures';
import { requestJson, ServiceProcess, spawnService } from './support/service-process';
import { makeDataDir, removeDataDir } from './support/test-app';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 20);
const SEED = Number(process.env.CRASH_SEED ?? 20261124);
/** CRASH_REFUSED=0 leaves the refused alias moves out of the workload. */
const REFUSED_MOVES = process.env.CRASH_REFUSED !== '0';
const MIN_KILL_DELAY_MS = 50;
const MAX_KILL_DELAY_MS = 1500;
const MODELS = ['alpha', 'beta', 'gamma'];
const ALIASES = ['production', 'staging', 'canary'];
const MAX_JOBS_PER_CYCLE = 4;
/** A management request rate a scripted client reaches easily; the limits are not under test. */
const SERVICE_ENV = {
  RATE_LIMIT_MANAGEMENT_PER_MINUTE: '0',
  RATE_LIMIT_PREDICT_PER_MINUTE: '0',
  // Progress writes while jobs run: more writes in flight when the kill lands.
  TRAINING_PROGRESS_INTERVAL_MS: '50',
};

type Rng = () => number;

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const round3 = (x: number) => Math.round(x * 1000) / 1000;

type DatasetShape = 'small' | 'large' | 'wide';
type OpKind =
  'upload-json' | 'upload-csv' | 'train' | 'import' | 'alias' | 'refused-alias' | 'predict';

interface DatasetAttempt {
  name: string;
  shape: DatasetShape;
  columns: string[];
  rowCount: number;
  /** The first rows sent, to compare with what the service gives back. */
  head: number[][];
}

interface DatasetRecord {
  id: string;
  name: string;
  checksum: string;
  rowCount: number;
  shape: DatasetShape;
  how: 'acknowledged' | 'seen after a restart';
  /** When it was acknowledged and what else was going on then, to explain a loss. */
  ack?: AckContext;
}

interface AckContext {
  cycle: number;
  tick: number;
  inFlight: Record<string, number>;
  runningJobs: number;
}

interface VersionRecord {
  model: string;
  version: number;
  checksum: string;
  inputs: string[];
  how: 'acknowledged' | 'seen after a restart';
  predictions?: number[];
}

interface ImportAttempt {
  model: string;
  description: string;
  coefficients: number[];
  intercept: number;
}

interface JobRecord {
  id: string;
  model: string;
  alias: string | null;
  how: 'acknowledged' | 'seen after a restart';
  ack?: AckContext;
  /** Status and version once seen finished after a restart: they must never change again. */
  final?: { status: string; modelVersion: number | null };
  /** Seen succeeded by a client while the service ran (it answered a GET with it). */
  seenSucceeded?: number;
}

/** One change that may move an alias; its target is known, or found later (import, job). */
interface AliasOp {
  target: number | { job: string } | { importOf: string };
  issued: number;
  acked?: number;
  /** Answered 4xx: it must not have moved anything. */
  refused?: boolean;
}

interface AliasRecord {
  model: string;
  alias: string;
  /** The value read back after the last restart, null when the alias did not exist. */
  baseline: number | null;
  ops: AliasOp[];
}

interface CycleStats {
  kill: string;
  delayMs: number;
  inFlight: Record<string, number>;
  runningJobs: number;
  acked: Record<string, number>;
  interrupted: number;
  startupMs: number;
}

/** What the client knows: every acknowledged write and every state read back after a restart. */
class Ledger {
  clock = 0;
  readonly datasetAttempts = new Map<string, DatasetAttempt>();
  readonly datasets = new Map<string, DatasetRecord>();
  readonly imports = new Map<string, ImportAttempt>();
  readonly versions = new Map<string, VersionRecord>();
  /** Seeds of every job submitted: unique, so a job is known by its seed (responses carry it). */
  readonly jobSeeds = new Set<number>();
  readonly jobs = new Map<string, JobRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  readonly violations: string[] = [];
  /** The refused alias moves answered (404), by cycle and tick. */
  readonly refusals: { cycle: number; tick: number }[] = [];

  tick(): number {
    return ++this.clock;
  }

  violation(cycle: number, message: string): void {
    this.violations.push(`after kill ${cycle}: ${message}`);
  }

  alias(model: string, alias: string): AliasRecord {
    const key = `${model}/${alias}`;
    let record = this.aliases.get(key);
    if (!record) {
      record = { model, alias, baseline: null, ops: [] };
      this.aliases.set(key, record);
    }
    return record;
  }

  /** Why an acknowledged write may be gone: what was in flight, what was refused after it. */
  explain(ack: AckContext | undefined): string {
    if (!ack) return '';
    const refused = this.refusals.filter((r) => r.cycle === ack.cycle && r.tick > ack.tick).length;
    return (
      ` (acknowledged in cycle ${ack.cycle} with ${JSON.stringify(ack.inFlight)} in flight and ` +
      `${ack.runningJobs} job(s) seen running; ${refused} refused alias move(s) answered after it)`
    );
  }

  versionsOf(model: string): VersionRecord[] {
    return [...this.versions.values()].filter((v) => v.model === model);
  }
}

const versionKey = (model: string, version: number) => `${model}@${version}`;

/** Fixed instances for a version: rows in the order of its inputSchema. */
function instancesFor(inputs: string[]): number[][] {
  return [0, 1, 2].map((i) => inputs.map((_, j) => ((i * 7 + j * 3) % 11) - 4 + 0.25 * i));
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/** A table y ≈ 3 + Σ c_j x_j with a little noise, rounded so CSV and JSON carry the same values. */
function makeTable(rng: Rng, shape: DatasetShape): { columns: string[]; rows: number[][] } {
  const k = shape === 'wide' ? 24 : shape === 'large' ? 3 : between(rng, 2, 4);
  const n =
    shape === 'wide' ? 120 : shape === 'large' ? between(rng, 3000, 8000) : between(rng, 20, 200);
  const weights = Array.from({ length: k }, () => round3(rng() * 4 - 2));
  const columns = [...Array.from({ length: k }, (_, j) => `x${j + 1}`), 'y'];
  const rows = Array.from({ length: n }, () => {
    const xs = weights.map(() => round3(rng() * 10 - 5));
    const y = 3 + xs.reduce((sum, x, j) => sum + x * weights[j], 0) + (rng() - 0.5) * 0.1;
    return [...xs, round3(y)];
  });
  return { columns, rows };
}

async function listAll(service: ServiceProcess, url: string): Promise<any[]> {
  const items: any[] = [];
  for (let offset = 0; ; offset += 500) {
    const separator = url.includes('?') ? '&' : '?';
    const page = await requestJson(
      service.baseUrl,
      'GET',
      `${url}${separator}limit=500&offset=${offset}`,
    );
    if (page.status !== 200) throw new Error(`GET ${url}: ${page.status} ${page.text}`);
    items.push(...page.body.items);
    if (items.length >= page.body.total || page.body.items.length === 0) return items;
  }
}

/**
 * One cycle's workload: two writer lanes, a predictor and a job poller, until `stop` is set.
 * Every write the service acknowledges goes into the ledger the moment its response is complete.
 */
class Workload {
  stopped = false;
  readonly inFlight = new Map<number, OpKind>();
  readonly acked: Record<string, number> = {};
  readonly runningJobs = new Set<string>();
  /** Called the moment a dataset or job is acknowledged while an import or alias move is in flight. */
  onAckDuringRegistryWrite: (() => void) | null = null;
  /** What was in flight when onAckDuringRegistryWrite killed the service. */
  killedAfterAck: Record<string, number> | null = null;
  private readonly cycleJobs: string[] = [];
  private jobsStarted = 0;
  private serial = 0;

  constructor(
    private readonly service: ServiceProcess,
    private readonly ledger: Ledger,
    private readonly cycle: number,
  ) {}

  run(): Promise<void> {
    const seed = (lane: number) =>
      SEED ^ Math.imul(this.cycle + 1, 0x9e3779b1) ^ (lane * 0x85ebca6b);
    return Promise.all([
      this.writer(prng(seed(1))),
      this.writer(prng(seed(2))),
      this.predictor(prng(seed(3))),
      this.poller(),
    ]).then(() => undefined);
  }

  inFlightCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const kind of this.inFlight.values()) counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  }

  private acknowledged(): void {
    const kinds = [...this.inFlight.values()];
    if (this.onAckDuringRegistryWrite && (kinds.includes('import') || kinds.includes('alias'))) {
      this.onAckDuringRegistryWrite();
    }
  }

  private ackContext(tick: number): AckContext {
    return {
      cycle: this.cycle,
      tick,
      inFlight: this.inFlightCounts(),
      runningJobs: this.runningJobs.size,
    };
  }

  private name(what: string): string {
    return `c${this.cycle}-${what}${++this.serial}`;
  }

  /** Sends one request, marked in flight until its response is complete (or the kill ends it). */
  private async send(
    kind: OpKind,
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const id = this.ledger.tick();
    this.inFlight.set(id, kind);
    try {
      const result = await requestJson(this.service.baseUrl, method, url, body, { headers });
      if (result.status >= 200 && result.status < 300)
        this.acked[kind] = (this.acked[kind] ?? 0) + 1;
      return { ...result, issued: id, completed: this.ledger.tick() };
    } catch {
      return null; // the kill: not acknowledged
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async writer(rng: Rng): Promise<void> {
    while (!this.stopped) {
      const knownWide = [...this.ledger.datasets.values()].some((d) => d.shape === 'wide');
      const roll = rng();
      if (!knownWide && roll < 0.3) await this.upload(rng, 'wide');
      else if (roll < 0.22) await this.upload(rng, rng() < 0.2 ? 'large' : 'small');
      else if (roll < 0.37) await this.train(rng);
      else if (roll < 0.57) await this.importVersion(rng);
      else if (roll < 0.9) await this.moveAlias(rng);
      else if (REFUSED_MOVES) await this.refusedAliasMove(rng);
      else await this.moveAlias(rng);
      await sleep(between(rng, 0, 25));
    }
  }

  private async upload(rng: Rng, shape: DatasetShape): Promise<void> {
    const name = this.name(`${shape}-`);
    const { columns, rows } = makeTable(rng, shape);
    this.ledger.datasetAttempts.set(name, {
      name,
      shape,
      columns,
      rowCount: rows.length,
      head: rows.slice(0, 3),
    });
    const form = rng();
    let result;
    if (form < 0.4) {
      const csv = [columns.join(','), ...rows.map((row) => row.join(','))].join('\n') + '\n';
      result = await this.send('upload-csv', 'POST', `/v1/datasets?name=${name}`, csv, {
        'content-type': 'text/csv',
      });
    } else if (form < 0.7) {
      result = await this.send('upload-json', 'POST', '/v1/datasets', { name, columns, rows });
    } else {
      const records = rows.map((row) => Object.fromEntries(columns.map((c, j) => [c, row[j]])));
      result = await this.send('upload-json', 'POST', '/v1/datasets', { name, records });
    }
    if (result?.status === 201) {
      this.ledger.datasets.set(result.body.id, {
        id: result.body.id,
        name,
        checksum: result.body.checksum,
        rowCount: result.body.rowCount,
        shape,
        how: 'acknowledged',
        ack: this.ackContext(result.completed),
      });
      this.acknowledged();
      if (result.body.rowCount !== rows.length || result.body.name !== name) {
        this.ledger.violation(this.cycle, `upload ${name} answered ${result.text.slice(0, 200)}`);
      }
    }
  }

  private async train(rng: Rng): Promise<void> {
    const datasets = [...this.ledger.datasets.values()];
    if (datasets.length === 0 || this.jobsStarted >= MAX_JOBS_PER_CYCLE) return;
    // Long jobs on the wide table (0.2–1.5 s of gradient descent) get killed while running.
    const wide = datasets.filter((d) => d.shape === 'wide');
    const dataset = wide.length > 0 && rng() < 0.5 ? pick(rng, wide) : pick(rng, datasets);
    const hyperparameters =
      dataset.shape === 'wide'
        ? { optimizer: 'gradient-descent', epochs: between(rng, 50, 300) * 1000 }
        : rng() < 0.5
          ? { optimizer: 'normal-equation' }
          : { optimizer: 'gradient-descent', epochs: between(rng, 1, 20) * 1000 };
    const model = pick(rng, MODELS);
    const alias = rng() < 0.35 ? pick(rng, ALIASES) : null;
    const seed = this.ledger.jobSeeds.size + 1;
    this.ledger.jobSeeds.add(seed);
    this.jobsStarted++;
    const result = await this.send('train', 'POST', '/v1/training-jobs', {
      model,
      dataset: dataset.id,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters,
      validationSplit: 0.2,
      seed,
      ...(alias ? { alias } : {}),
    });
    if (result?.status === 202) {
      const id = result.body.id as string;
      this.ledger.jobs.set(id, {
        id,
        model,
        alias,
        how: 'acknowledged',
        ack: this.ackContext(result.completed),
      });
      this.cycleJobs.push(id);
      this.acknowledged();
    }
    // Accepted or not, a job with an alias may move it (the insert may have committed).
    if (alias) {
      const op: AliasOp =
        result?.status === 202
          ? { target: { job: result.body.id }, issued: result.issued }
          : { target: { job: `seed:${seed}` }, issued: result?.issued ?? this.ledger.tick() };
      this.ledger.alias(model, alias).ops.push(op);
    }
  }

  private async importVersion(rng: Rng): Promise<void> {
    const model = pick(rng, MODELS);
    const artifact = housingArtifact(round3(0.5 + rng() * 1.5));
    const description = this.name('import');
    this.ledger.imports.set(description, {
      model,
      description,
      coefficients: artifact.coefficients,
      intercept: artifact.intercept,
    });
    const alias = rng() < 0.3 ? pick(rng, ALIASES) : undefined;
    const result = await this.send('import', 'POST', `/v1/models/${model}/versions`, {
      artifact,
      description,
      ...(alias ? { alias } : {}),
    });
    const acked = result?.status === 201;
    if (acked) {
      const version = result.body.version as number;
      this.ledger.versions.set(versionKey(model, version), {
        model,
        version,
        checksum: result.body.checksum,
        inputs: result.body.inputSchema.map((input: { name: string }) => input.name),
        how: 'acknowledged',
      });
    }
    if (alias) {
      this.ledger
        .alias(model, alias)
        .ops.push(
          acked
            ? { target: result.body.version, issued: result.issued, acked: result.completed }
            : { target: { importOf: description }, issued: result?.issued ?? this.ledger.tick() },
        );
    }
  }

  private async moveAlias(rng: Rng): Promise<void> {
    const model = pick(rng, MODELS);
    const versions = this.ledger.versionsOf(model);
    if (versions.length === 0) return;
    const alias = pick(rng, ALIASES);
    const target = pick(rng, versions).version;
    const op: AliasOp = { target, issued: this.ledger.tick() };
    this.ledger.alias(model, alias).ops.push(op);
    const result = await this.send('alias', 'PUT', `/v1/models/${model}/aliases/${alias}`, {
      version: target,
    });
    if (result && result.status >= 400 && result.status < 500) op.refused = true;
    if (result?.status === 200) {
      op.issued = result.issued;
      op.acked = result.completed;
      if (result.body.version !== target) {
        this.ledger.violation(
          this.cycle,
          `PUT alias ${model}/${alias} → ${target} answered ${result.text}`,
        );
      }
    }
  }

  /** A move to a version that does not exist: refused (404), and it must change nothing. */
  private async refusedAliasMove(rng: Rng): Promise<void> {
    const model = pick(rng, MODELS);
    const versions = this.ledger.versionsOf(model);
    if (versions.length === 0) return;
    const missing = Math.max(...versions.map((v) => v.version)) + 1000;
    const result = await this.send(
      'refused-alias',
      'PUT',
      `/v1/models/${model}/aliases/${pick(rng, ALIASES)}`,
      {
        version: missing,
      },
    );
    if (result?.status === 404)
      this.ledger.refusals.push({ cycle: this.cycle, tick: result.completed });
    if (result && result.status !== 404) {
      this.ledger.violation(
        this.cycle,
        `PUT alias to missing version ${missing} of ${model} answered ${result.status}`,
      );
    }
  }

  private async predictor(rng: Rng): Promise<void> {
    while (!this.stopped) {
      const versions = [...this.ledger.versions.values()];
      if (versions.length > 0) {
        const version = pick(rng, versions);
        const result = await this.send(
          'predict',
          'POST',
          `/v1/models/${version.model}/predict?version=${version.version}`,
          { instances: instancesFor(version.inputs) },
        );
        if (result?.status === 200) {
          const predictions = result.body.predictions as number[];
          if (!version.predictions) version.predictions = predictions;
          else if (!sameNumbers(version.predictions, predictions)) {
            this.ledger.violation(
              this.cycle,
              `${version.model} v${version.version} predicted ${JSON.stringify(predictions)}, first ${JSON.stringify(version.predictions)}`,
            );
          }
        }
      }
      await sleep(between(rng, 5, 40));
    }
  }

  /** Watches this cycle's jobs: which are running (for kills mid-training), which succeeded. */
  private async poller(): Promise<void> {
    while (!this.stopped) {
      for (const id of this.cycleJobs) {
        const job = this.ledger.jobs.get(id);
        if (this.stopped || !job || job.seenSucceeded !== undefined) continue;
        try {
          const result = await requestJson(this.service.baseUrl, 'GET', `/v1/training-jobs/${id}`);
          if (result.status !== 200) continue;
          if (result.body.status === 'running') this.runningJobs.add(id);
          else this.runningJobs.delete(id);
          if (result.body.status === 'succeeded') job.seenSucceeded = result.body.modelVersion;
        } catch {
          // the kill
        }
      }
      await sleep(20);
    }
  }
}

/**
 * Which moment a cycle aims its kill at: `random` kills after the delay whatever is going on; the
 * others wait for an upload, alias move or import in flight, or a job running; `after-ack` kills
 * the instant a dataset or job is acknowledged while a registry write (import, alias move) is in
 * flight — the acknowledgement must already be durable then.
 */
type KillTarget = 'random' | 'upload' | 'alias' | 'training' | 'import' | 'after-ack';
const KILL_TARGETS: KillTarget[] = ['random', 'upload', 'alias', 'training', 'import', 'after-ack'];

function aimed(workload: Workload, target: KillTarget): boolean {
  const kinds = [...workload.inFlight.values()];
  switch (target) {
    case 'random':
      return true;
    case 'upload':
      return kinds.includes('upload-csv') || kinds.includes('upload-json');
    case 'alias':
      return kinds.includes('alias');
    case 'import':
      return kinds.includes('import');
    case 'training':
      return workload.runningJobs.size > 0;
    case 'after-ack':
      return workload.killedAfterAck !== null;
  }
}

/** Polls until no job is queued or running, and returns every job. */
async function settledJobs(service: ServiceProcess, timeoutMs = 60_000): Promise<any[] | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await listAll(service, '/v1/training-jobs');
    if (jobs.every((job) => !['queued', 'running'].includes(job.status))) return jobs;
    if (Date.now() > deadline) return null;
    await sleep(50);
  }
}

/** Everything the ledger holds must be there after the restart, and the registry must be whole. */
async function verify(service: ServiceProcess, ledger: Ledger, cycle: number): Promise<number> {
  const fail = (message: string) => ledger.violation(cycle, message);
  const get = async (url: string) => {
    const result = await requestJson(service.baseUrl, 'GET', url);
    if (result.status !== 200) throw new Error(`GET ${url}: ${result.status} ${result.text}`);
    return result;
  };

  // Jobs, first thing: nothing from before the kill may still be running.
  const early = await listAll(service, '/v1/training-jobs');
  let interrupted = 0;
  for (const job of early) {
    const startedAt = job.startedAt ? Date.parse(job.startedAt) : NaN;
    if (job.status === 'running' && !(startedAt >= service.spawnedAt)) {
      fail(`job ${job.id} is still running from before the kill (started ${job.startedAt})`);
    }
    if (
      job.status === 'failed' &&
      /interrupted/.test(job.error ?? '') &&
      Date.parse(job.finishedAt) >= service.spawnedAt
    ) {
      interrupted++;
    }
  }
  const jobs = await settledJobs(service);
  if (!jobs) {
    fail('jobs still queued or running 60 s after the restart');
    return interrupted;
  }
  const jobsById = new Map(jobs.map((job) => [job.id as string, job]));
  for (const job of jobs) {
    if (!ledger.jobSeeds.has(job.seed))
      fail(`job ${job.id} (seed ${job.seed}) was never submitted`);
    if (!ledger.jobs.has(job.id)) {
      ledger.jobs.set(job.id, {
        id: job.id,
        model: job.model,
        alias: job.alias,
        how: 'seen after a restart',
      });
    }
  }
  if (new Set(jobs.map((job) => job.seed)).size !== jobs.length)
    fail('a job submission was stored twice');
  for (const record of ledger.jobs.values()) {
    const job = jobsById.get(record.id);
    if (!job) {
      fail(`${record.how} job ${record.id} (${record.model}) is gone${ledger.explain(record.ack)}`);
      ledger.jobs.delete(record.id);
      continue;
    }
    if (job.status === 'succeeded' && typeof job.modelVersion !== 'number') {
      fail(`job ${job.id} succeeded without a modelVersion`);
    }
    if (['failed', 'cancelled'].includes(job.status) && job.modelVersion !== null) {
      fail(`job ${job.id} is ${job.status} with modelVersion ${job.modelVersion}`);
    }
    if (
      record.final &&
      (record.final.status !== job.status || record.final.modelVersion !== job.modelVersion)
    ) {
      fail(
        `job ${job.id} was ${JSON.stringify(record.final)}, now ${job.status} v${job.modelVersion}`,
      );
    }
    if (
      record.seenSucceeded !== undefined &&
      (job.status !== 'succeeded' || job.modelVersion !== record.seenSucceeded)
    ) {
      fail(
        `job ${job.id} was seen succeeded with v${record.seenSucceeded} before the kill, now ${job.status} v${job.modelVersion}`,
      );
    }
    record.final = { status: job.status, modelVersion: job.modelVersion };
    record.seenSucceeded = undefined;
  }

  // Datasets: what was acknowledged, with its content; nothing that was not uploaded.
  const datasets = await listAll(service, '/v1/datasets');
  const listed = new Map(datasets.map((d) => [d.id as string, d]));
  if (new Set(datasets.map((d) => d.name)).size !== datasets.length)
    fail('an upload was stored twice');
  for (const dataset of datasets) {
    const attempt = ledger.datasetAttempts.get(dataset.name);
    if (!attempt) {
      fail(`dataset ${dataset.id} (${dataset.name}) was never uploaded`);
      continue;
    }
    if (dataset.rowCount !== attempt.rowCount) {
      fail(`dataset ${dataset.name} has ${dataset.rowCount} rows, ${attempt.rowCount} were sent`);
    }
    if (!ledger.datasets.has(dataset.id)) {
      ledger.datasets.set(dataset.id, {
        id: dataset.id,
        name: dataset.name,
        checksum: dataset.checksum,
        rowCount: dataset.rowCount,
        shape: attempt.shape,
        how: 'seen after a restart',
      });
    }
  }
  for (const record of ledger.datasets.values()) {
    const dataset = listed.get(record.id);
    if (!dataset) {
      fail(
        `${record.how} dataset ${record.id} (${record.name}) is gone${ledger.explain(record.ack)}`,
      );
      ledger.datasets.delete(record.id);
      continue;
    }
    if (dataset.checksum !== record.checksum || dataset.rowCount !== record.rowCount) {
      fail(
        `dataset ${record.name} was ${record.checksum}/${record.rowCount}, now ${dataset.checksum}/${dataset.rowCount}`,
      );
    }
    const attempt = ledger.datasetAttempts.get(record.name)!;
    const rows = (await get(`/v1/datasets/${record.id}/rows?limit=3`)).body;
    if (
      JSON.stringify(rows.columns) !== JSON.stringify(attempt.columns) ||
      JSON.stringify(rows.rows) !== JSON.stringify(attempt.head)
    ) {
      fail(
        `dataset ${record.name} reads back ${JSON.stringify(rows).slice(0, 200)}, sent ${JSON.stringify(attempt.head).slice(0, 200)}`,
      );
    }
  }

  // Versions: 1..N per model, every artifact whole, predictions unchanged.
  const models = await listAll(service, '/v1/models');
  const versionsByKey = new Map<string, any>();
  const modelsByName = new Map(models.map((m) => [m.name as string, m]));
  for (const model of models) {
    if (!MODELS.includes(model.name)) fail(`model ${model.name} was never created`);
    const versions = (await listAll(service, `/v1/models/${model.name}/versions`)).sort(
      (a, b) => a.version - b.version,
    );
    const numbers = versions.map((v) => v.version as number);
    if (numbers.some((n, i) => n !== i + 1))
      fail(`${model.name} has versions ${numbers.join(',')}, not 1..${numbers.length}`);
    if ((model.latestVersion ?? 0) !== (numbers.at(-1) ?? 0)) {
      fail(
        `${model.name} says latestVersion ${model.latestVersion}, its versions end at ${numbers.at(-1)}`,
      );
    }
    for (const version of versions) {
      const key = versionKey(model.name, version.version);
      versionsByKey.set(key, version);
      const inputs = version.inputSchema.map((input: { name: string }) => input.name);
      let record = ledger.versions.get(key);
      if (!record) {
        record = {
          model: model.name,
          version: version.version,
          checksum: version.checksum,
          inputs,
          how: 'seen after a restart',
        };
        ledger.versions.set(key, record);
      }
      if (version.checksum !== record.checksum) {
        fail(
          `${model.name} v${version.version} has checksum ${version.checksum}, was ${record.checksum}`,
        );
      }
      if (version.status !== 'ready')
        fail(`${model.name} v${version.version} is ${version.status}`);
      const artifact = await requestJson(
        service.baseUrl,
        'GET',
        `/v1/models/${model.name}/versions/${version.version}/artifact`,
      );
      if (artifact.status !== 200 || sha256(artifact.text) !== version.checksum) {
        fail(
          `${model.name} v${version.version}: artifact ${artifact.status}, sha256 ${sha256(artifact.text)} ≠ ${version.checksum}`,
        );
      }
      if (version.trainingJob) {
        const job = jobsById.get(version.trainingJob);
        if (
          !job ||
          job.status !== 'succeeded' ||
          job.modelVersion !== version.version ||
          job.model !== model.name
        ) {
          fail(
            `${model.name} v${version.version} comes from job ${version.trainingJob}, which is ${job ? `${job.status} v${job.modelVersion}` : 'missing'}`,
          );
        }
      } else {
        const sent = ledger.imports.get(version.description);
        if (!sent || sent.model !== model.name)
          fail(`${model.name} v${version.version} (${version.description}) was never imported`);
        else if (artifact.status === 200) {
          const stored = JSON.parse(artifact.text);
          if (
            !sameNumbers(stored.coefficients, sent.coefficients) ||
            !Object.is(stored.intercept, sent.intercept)
          ) {
            fail(
              `${model.name} v${version.version}: artifact ${artifact.text.slice(0, 200)} is not the one sent`,
            );
          }
        }
      }
      const predicted = await requestJson(
        service.baseUrl,
        'POST',
        `/v1/models/${model.name}/predict?version=${version.version}`,
        {
          instances: instancesFor(inputs),
        },
      );
      if (predicted.status !== 200)
        fail(
          `${model.name} v${version.version}: predict ${predicted.status} ${predicted.text.slice(0, 200)}`,
        );
      else if (!record.predictions) record.predictions = predicted.body.predictions;
      else if (!sameNumbers(record.predictions, predicted.body.predictions)) {
        fail(
          `${model.name} v${version.version} predicts ${JSON.stringify(predicted.body.predictions)}, first ${JSON.stringify(record.predictions)}`,
        );
      }
    }
  }
  for (const record of [...ledger.versions.values()]) {
    if (!versionsByKey.has(versionKey(record.model, record.version))) {
      fail(
        `${record.how} ${record.model} v${record.version} (${record.checksum.slice(0, 12)}) is gone`,
      );
      ledger.versions.delete(versionKey(record.model, record.version));
    }
  }
  for (const job of jobs) {
    if (
      job.status === 'succeeded' &&
      versionsByKey.get(versionKey(job.model, job.modelVersion))?.trainingJob !== job.id
    ) {
      fail(
        `job ${job.id} succeeded with ${job.model} v${job.modelVersion}, which is not its version`,
      );
    }
  }

  // Aliases: on an existing version, and on a target the acknowledged history allows.
  const targetOf = (op: AliasOp): number | null => {
    if (typeof op.target === 'number') return op.target;
    if ('job' in op.target) {
      const ref = op.target.job;
      const job = ref.startsWith('seed:')
        ? jobs.find((j) => j.seed === Number(ref.slice('seed:'.length)))
        : jobsById.get(ref);
      return job?.status === 'succeeded' ? job.modelVersion : null;
    }
    const description = op.target.importOf;
    const version = [...versionsByKey.values()].find((v) => v.description === description);
    return version ? version.version : null;
  };
  for (const name of MODELS) {
    const model = modelsByName.get(name);
    const current: Record<string, number> = model?.aliases ?? {};
    for (const alias of new Set([...ALIASES, ...Object.keys(current)])) {
      const record = ledger.alias(name, alias);
      const value = current[alias] ?? null;
      const acked = record.ops.filter((op) => op.acked !== undefined);
      const allowed = new Set<number | null>();
      if (acked.length === 0) allowed.add(record.baseline);
      for (const op of record.ops) {
        // An acknowledged move is the final value unless a later one was acknowledged after it.
        if (op.acked !== undefined && acked.some((other) => other.issued > op.acked!)) continue;
        if (op.refused) continue;
        const target = targetOf(op);
        if (target !== null) allowed.add(target);
      }
      if (!allowed.has(value)) {
        fail(
          `alias ${name}/${alias} is ${value}; allowed ${JSON.stringify([...allowed])} (was ${record.baseline}, moves ${JSON.stringify(record.ops)})`,
        );
      }
      if (value !== null && versionsByKey.get(versionKey(name, value))?.status !== 'ready') {
        fail(`alias ${name}/${alias} points at ${value}, which is not a ready version`);
      }
      record.baseline = value;
      record.ops = [];
    }
    if (model) {
      // The audit trail is written in the same transaction as the move.
      const events = (await get(`/v1/models/${name}/events?limit=500`)).body.items as any[];
      for (const [alias, version] of Object.entries(current)) {
        const latest = events.find(
          (e) => e.alias === alias && ['alias_set', 'alias_deleted'].includes(e.action),
        );
        if (latest && (latest.action !== 'alias_set' || latest.toVersion !== version)) {
          fail(
            `alias ${name}/${alias} is ${version} but its latest event says ${JSON.stringify(latest)}`,
          );
        }
      }
    }
  }
  return interrupted;
}

function integrityCheck(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const db = new Database(file, (error) => {
      if (error) return reject(error);
      db.all('PRAGMA integrity_check', (err, rows: { integrity_check: string }[]) => {
        db.close();
        if (err) reject(err);
        else resolve(rows.map((row) => row.integrity_check).join('\n'));
      });
    });
  });
}

describe('crash campaign: SIGKILL at random points of a scripted workload', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(() => {
    dataDir = makeDataDir();
  });

  afterAll(async () => {
    await service?.kill();
    removeDataDir(dataDir);
  });

  it(`loses no acknowledged write and leaves no half state over ${CYCLES} kills`, async () => {
    const began = Date.now();
    const ledger = new Ledger();
    const stats: CycleStats[] = [];
    const killRng = prng(SEED);
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      service = await spawnService(dataDir, { env: SERVICE_ENV });
      const interrupted = cycle > 0 ? await verify(service, ledger, cycle) : 0;
      if (cycle > 0) stats[cycle - 1].interrupted = interrupted;
      if (cycle === CYCLES) break;

      const delayMs = between(killRng, MIN_KILL_DELAY_MS, MAX_KILL_DELAY_MS);
      const target = KILL_TARGETS[cycle % KILL_TARGETS.length];
      const workload = new Workload(service, ledger, cycle + 1);
      const running = workload.run();
      await sleep(delayMs);
      if (target === 'after-ack') {
        const child = service.child;
        workload.onAckDuringRegistryWrite = () => {
          workload.onAckDuringRegistryWrite = null;
          workload.killedAfterAck = workload.inFlightCounts();
          child.kill('SIGKILL');
        };
      }
      // Aimed kills wait (up to 1.5 s more) for the operation they aim at to be in flight.
      const aimDeadline = Date.now() + 1500;
      while (!aimed(workload, target) && Date.now() < aimDeadline) await sleep(1);
      workload.onAckDuringRegistryWrite = null;
      const landed = aimed(workload, target) ? target : 'random';
      const inFlight = workload.killedAfterAck ?? workload.inFlightCounts();
      const runningJobs = workload.runningJobs.size;
      await service.kill();
      workload.stopped = true;
      await running;
      stats.push({
        kill: landed,
        delayMs,
        inFlight,
        runningJobs,
        acked: { ...workload.acked },
        interrupted: 0,
        startupMs: service.startupMs,
      });
      if (ledger.violations.length > 100) break;
    }
    await service?.kill();
    // PostgreSQL keeps its own files consistent; on SQLite the file itself is checked.
    const integrity = onPostgres()
      ? 'ok'
      : await integrityCheck(path.join(dataDir, 'modeldock.sqlite'));

    const totals: Record<string, number> = {};
    for (const s of stats)
      for (const [kind, n] of Object.entries(s.acked)) totals[kind] = (totals[kind] ?? 0) + n;
    const killsWith = (test: (s: CycleStats) => boolean) => stats.filter(test).length;
    const summary = {
      seed: SEED,
      kills: stats.length,
      build: service?.build,
      seconds: Math.round((Date.now() - began) / 1000),
      meanStartupMs: Math.round(
        stats.reduce((sum, s) => sum + s.startupMs, 0) / Math.max(stats.length, 1),
      ),
      acknowledged: totals,
      ledger: {
        datasets: ledger.datasets.size,
        versions: ledger.versions.size,
        jobs: ledger.jobs.size,
      },
      killsMidUpload: killsWith(
        (s) => (s.inFlight['upload-csv'] ?? 0) + (s.inFlight['upload-json'] ?? 0) > 0,
      ),
      killsMidAliasMove: killsWith((s) => (s.inFlight.alias ?? 0) > 0),
      killsMidImport: killsWith((s) => (s.inFlight.import ?? 0) > 0),
      killsMidTraining: killsWith((s) => s.interrupted > 0),
      killsAfterAckDuringRegistryWrite: killsWith((s) => s.kill === 'after-ack'),
      killsAimedAt: Object.fromEntries(
        KILL_TARGETS.map((target) => [target, killsWith((s) => s.kill === target)]),
      ),
      jobsInterrupted: stats.reduce((sum, s) => sum + s.interrupted, 0),
      perKill: stats.map(
        (s, i) =>
          `${i + 1}: ${s.kill} @${s.delayMs}ms in-flight ${JSON.stringify(s.inFlight)} running ${s.runningJobs} interrupted ${s.interrupted}`,
      ),
      integrity,
      violations: ledger.violations.length,
    };
    // One line in `npm test`; CRASH_REPORT=1 prints every kill.
    const { perKill, ...brief } = summary;
    process.stdout.write(
      `crash campaign: ${JSON.stringify(process.env.CRASH_REPORT ? summary : brief)}\n`,
    );
    void perKill;

    expect(ledger.violations).toEqual([]);
    expect(integrity).toBe('ok');
    expect(stats.length).toBe(CYCLES);
  }, 300_000);
});
