/**
 * What the client knows: every acknowledged write and every state read back after a restart (with
 * nothing in flight), since a later restart must not lose that either. The checks after each
 * restart compare the service with it, and record what they find wrong here, by claim.
 */

export type DatasetShape = 'small' | 'large' | 'wide';

/** Where a record came from: a 2xx received in full, or a read after a restart. */
export type Provenance = 'acknowledged' | 'seen after a restart';

export interface DatasetAttempt {
  name: string;
  shape: DatasetShape;
  columns: string[];
  rowCount: number;
  /** The first rows sent, to compare with what the service gives back. */
  head: number[][];
}

/** When a write was acknowledged and what else was going on then, to explain a loss. */
export interface AckContext {
  cycle: number;
  tick: number;
  inFlight: Record<string, number>;
  runningJobs: number;
}

export interface DatasetRecord {
  id: string;
  name: string;
  checksum: string;
  rowCount: number;
  shape: DatasetShape;
  how: Provenance;
  ack?: AckContext;
}

export interface VersionRecord {
  model: string;
  version: number;
  checksum: string;
  inputs: string[];
  how: Provenance;
  /** The first predictions seen for instancesFor(inputs): they must never change. */
  predictions?: number[];
}

export interface ImportAttempt {
  model: string;
  description: string;
  coefficients: number[];
  intercept: number;
}

export interface JobRecord {
  id: string;
  model: string;
  alias: string | null;
  how: Provenance;
  ack?: AckContext;
  /** Status and version once seen finished after a restart: they must never change again. */
  final?: { status: string; modelVersion: number | null };
  /** Seen succeeded by a client while the service ran (it answered a GET with it). */
  seenSucceeded?: number;
}

/** One change that may move an alias; its target is known, or found later (import, job). */
export interface AliasOp {
  target: number | { job: string } | { importOf: string };
  issued: number;
  acked?: number;
  /** Answered 4xx: it must not have moved anything. */
  refused?: boolean;
}

export interface AliasRecord {
  model: string;
  alias: string;
  /** The value read back after the last restart, null when the alias did not exist. */
  baseline: number | null;
  ops: AliasOp[];
}

/** The claims the campaign proves; each violation found counts against one of them. */
export const CLAIMS = ['datasets', 'jobs', 'versions', 'predictions', 'aliases'] as const;
export type Claim = (typeof CLAIMS)[number];

export const versionKey = (model: string, version: number) => `${model}@${version}`;

export class Ledger {
  /** Orders requests and responses: an op issued after another's acknowledgement has a later tick. */
  clock = 0;
  readonly datasetAttempts = new Map<string, DatasetAttempt>();
  readonly datasets = new Map<string, DatasetRecord>();
  readonly imports = new Map<string, ImportAttempt>();
  readonly versions = new Map<string, VersionRecord>();
  /** Seeds of every job submitted: unique, so a job is known by its seed (responses carry it). */
  readonly jobSeeds = new Set<number>();
  readonly jobs = new Map<string, JobRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  /** Violations of each claim, over the whole campaign, reported together at the end. */
  readonly violations: Record<Claim, string[]> = {
    datasets: [],
    jobs: [],
    versions: [],
    predictions: [],
    aliases: [],
  };
  /** The refused alias moves answered (404), by cycle and tick. */
  readonly refusals: { cycle: number; tick: number }[] = [];

  tick(): number {
    return ++this.clock;
  }

  violation(cycle: number, claim: Claim, message: string): void {
    this.violations[claim].push(`after kill ${cycle}: ${message}`);
  }

  violationCount(): number {
    return CLAIMS.reduce((sum, claim) => sum + this.violations[claim].length, 0);
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
