import { setTimeout as sleep } from 'node:timers/promises';
import { housingArtifact } from '../fixtures';
import { requestJson, ServiceProcess } from '../service-process';
import { AckContext, AliasOp, DatasetShape, Ledger, versionKey } from './ledger';
import { between, pick, prng, Rng } from './prng';

/**
 * One cycle's scripted workload against a running service: two writer lanes (uploads, trainings,
 * imports, alias moves, refused alias moves), a predictor and a job poller, until `stopped` is set.
 * Every write the service acknowledges goes into the ledger the moment its response is complete.
 */

export const MODELS = ['alpha', 'beta', 'gamma'];
export const ALIASES = ['production', 'staging', 'canary'];
const MAX_JOBS_PER_CYCLE = 4;

export type OpKind =
  'upload-json' | 'upload-csv' | 'train' | 'import' | 'alias' | 'refused-alias' | 'predict';

export interface WorkloadOptions {
  /** The campaign's seed: each cycle's lanes draw from seeds derived from it. */
  seed: number;
  /** False leaves the refused alias moves out (plain alias moves in their place). */
  refusedMoves: boolean;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Fixed instances for a version: rows in the order of its inputSchema. */
export function instancesFor(inputs: string[]): number[][] {
  return [0, 1, 2].map((i) => inputs.map((_, j) => ((i * 7 + j * 3) % 11) - 4 + 0.25 * i));
}

/** Equal bit for bit (Object.is: -0 and NaN count). */
export function sameNumbers(a: number[], b: number[]): boolean {
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

export class Workload {
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
    private readonly options: WorkloadOptions,
  ) {}

  run(): Promise<void> {
    const seed = (lane: number) =>
      this.options.seed ^ Math.imul(this.cycle + 1, 0x9e3779b1) ^ (lane * 0x85ebca6b);
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
      else if (this.options.refusedMoves) await this.refusedAliasMove(rng);
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
        this.ledger.violation(
          this.cycle,
          'datasets',
          `upload ${name} answered ${result.text.slice(0, 200)}`,
        );
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
          'aliases',
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
        'aliases',
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
              'predictions',
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
