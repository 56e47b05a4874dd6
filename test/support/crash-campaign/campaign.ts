import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Database } from 'sqlite3';
import { ServiceProcess, spawnService } from '../service-process';
import { onPostgres } from '../test-database';
import { verifyAfterRestart } from './checks';
import { Ledger } from './ledger';
import { between, prng } from './prng';
import { Workload } from './workload';

/**
 * The campaign: one data directory, `cycles` times "start the service, check everything it ever
 * acknowledged, run the scripted workload, SIGKILL it at a random moment", then one last start and
 * check, and SQLite's own integrity check on the file.
 */

const MIN_KILL_DELAY_MS = 50;
const MAX_KILL_DELAY_MS = 1500;
/** Aimed kills wait this much longer for the operation they aim at to be in flight. */
const AIM_WAIT_MS = 1500;
/** Past this many violations the campaign stops early (and falls short of its cycles). */
const MAX_VIOLATIONS = 100;
/** A management request rate a scripted client reaches easily; the limits are not under test. */
const SERVICE_ENV = {
  RATE_LIMIT_MANAGEMENT_PER_MINUTE: '0',
  RATE_LIMIT_PREDICT_PER_MINUTE: '0',
  // Progress writes while jobs run: more writes in flight when the kill lands.
  TRAINING_PROGRESS_INTERVAL_MS: '50',
};

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

/** What one kill hit. */
export interface CycleStats {
  kill: string;
  delayMs: number;
  inFlight: Record<string, number>;
  runningJobs: number;
  acked: Record<string, number>;
  /** Jobs the next start marked interrupted. */
  interrupted: number;
  startupMs: number;
}

export interface CampaignOptions {
  dataDir: string;
  cycles: number;
  seed: number;
  /** False leaves the refused alias moves out of the workload. */
  refusedMoves: boolean;
}

export interface CampaignOutcome {
  ledger: Ledger;
  /** One per kill: fewer than the cycles asked for when the campaign stopped early. */
  stats: CycleStats[];
  /** PRAGMA integrity_check's answer on the SQLite file ('ok' on PostgreSQL). */
  integrity: string;
  seconds: number;
  build?: string;
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

export async function runCampaign(options: CampaignOptions): Promise<CampaignOutcome> {
  const { dataDir, cycles, seed } = options;
  const began = Date.now();
  const ledger = new Ledger();
  const stats: CycleStats[] = [];
  const killRng = prng(seed);
  let service: ServiceProcess | undefined;
  try {
    for (let cycle = 0; cycle <= cycles; cycle++) {
      service = await spawnService(dataDir, { env: SERVICE_ENV });
      const interrupted = cycle > 0 ? await verifyAfterRestart(service, ledger, cycle) : 0;
      if (cycle > 0) stats[cycle - 1].interrupted = interrupted;
      if (cycle === cycles) break;

      const delayMs = between(killRng, MIN_KILL_DELAY_MS, MAX_KILL_DELAY_MS);
      const target = KILL_TARGETS[cycle % KILL_TARGETS.length];
      const workload = new Workload(service, ledger, cycle + 1, options);
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
      const aimDeadline = Date.now() + AIM_WAIT_MS;
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
      if (ledger.violationCount() > MAX_VIOLATIONS) break;
    }
  } finally {
    await service?.kill();
  }
  // PostgreSQL keeps its own files consistent; on SQLite the file itself is checked.
  const integrity = onPostgres()
    ? 'ok'
    : await integrityCheck(path.join(dataDir, 'modeldock.sqlite'));
  return {
    ledger,
    stats,
    integrity,
    seconds: Math.round((Date.now() - began) / 1000),
    build: service?.build,
  };
}

/** What the campaign did, as one line; `everyKill` adds a line per kill. */
export function campaignSummary(
  outcome: CampaignOutcome,
  seed: number,
  everyKill: boolean,
): string {
  const { ledger, stats } = outcome;
  const totals: Record<string, number> = {};
  for (const s of stats)
    for (const [kind, n] of Object.entries(s.acked)) totals[kind] = (totals[kind] ?? 0) + n;
  const killsWith = (test: (s: CycleStats) => boolean) => stats.filter(test).length;
  const summary = {
    seed,
    kills: stats.length,
    build: outcome.build,
    seconds: outcome.seconds,
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
    integrity: outcome.integrity,
    violations: ledger.violationCount(),
  };
  const { perKill: _perKill, ...brief } = summary;
  return `crash campaign: ${JSON.stringify(everyKill ? summary : brief)}`;
}
