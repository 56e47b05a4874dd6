import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestJson, ServiceProcess } from '../service-process';
import { AliasOp, Claim, Ledger, versionKey } from './ledger';
import { ALIASES, instancesFor, MODELS, sameNumbers } from './workload';

/**
 * The checks after each restart: everything the ledger holds must be there, and the registry must
 * be whole. Each finding counts against one claim; what the service shows that the ledger did not
 * know yet (say, a write whose answer the kill cut off) joins the ledger, so no later restart may
 * lose it either.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every item of a paginated list route. */
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

/** One restart's check: the service just started, the ledger, and where findings go. */
interface Check {
  service: ServiceProcess;
  ledger: Ledger;
  fail(claim: Claim, message: string): void;
  get(url: string): Promise<{ body: any }>;
}

/**
 * Checks the service after the restart that follows kill `cycle`, and returns how many jobs the
 * restart marked interrupted.
 */
export async function verifyAfterRestart(
  service: ServiceProcess,
  ledger: Ledger,
  cycle: number,
): Promise<number> {
  const check: Check = {
    service,
    ledger,
    fail: (claim, message) => ledger.violation(cycle, claim, message),
    get: async (url) => {
      const result = await requestJson(service.baseUrl, 'GET', url);
      if (result.status !== 200) throw new Error(`GET ${url}: ${result.status} ${result.text}`);
      return result;
    },
  };
  // Jobs, first thing: nothing from before the kill may still be running.
  const interrupted = await countInterrupted(check);
  const jobs = await settledJobs(service);
  if (!jobs) {
    check.fail('jobs', 'jobs still queued or running 60 s after the restart');
    return interrupted;
  }
  const jobsById = new Map(jobs.map((job) => [job.id as string, job]));
  checkJobs(check, jobs, jobsById);
  await checkDatasets(check);
  const { versionsByKey, modelsByName } = await checkVersions(check, jobsById);
  checkJobsHaveTheirVersions(check, jobs, versionsByKey);
  await checkAliases(check, jobs, jobsById, versionsByKey, modelsByName);
  return interrupted;
}

/** Flags jobs still running from before the kill; counts those the restart marked interrupted. */
async function countInterrupted({ service, fail }: Check): Promise<number> {
  const early = await listAll(service, '/v1/training-jobs');
  let interrupted = 0;
  for (const job of early) {
    const startedAt = job.startedAt ? Date.parse(job.startedAt) : NaN;
    if (job.status === 'running' && !(startedAt >= service.spawnedAt)) {
      fail(
        'jobs',
        `job ${job.id} is still running from before the kill (started ${job.startedAt})`,
      );
    }
    if (
      job.status === 'failed' &&
      /interrupted/.test(job.error ?? '') &&
      Date.parse(job.finishedAt) >= service.spawnedAt
    ) {
      interrupted++;
    }
  }
  return interrupted;
}

/**
 * Every accepted job present, none submitted twice or never; succeeded with a version, failed and
 * cancelled without; a finished job (or one a client saw succeed) stays as it was.
 */
function checkJobs({ ledger, fail }: Check, jobs: any[], jobsById: Map<string, any>): void {
  for (const job of jobs) {
    if (!ledger.jobSeeds.has(job.seed))
      fail('jobs', `job ${job.id} (seed ${job.seed}) was never submitted`);
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
    fail('jobs', 'a job submission was stored twice');
  for (const record of ledger.jobs.values()) {
    const job = jobsById.get(record.id);
    if (!job) {
      fail(
        'jobs',
        `${record.how} job ${record.id} (${record.model}) is gone${ledger.explain(record.ack)}`,
      );
      ledger.jobs.delete(record.id);
      continue;
    }
    if (job.status === 'succeeded' && typeof job.modelVersion !== 'number') {
      fail('jobs', `job ${job.id} succeeded without a modelVersion`);
    }
    if (['failed', 'cancelled'].includes(job.status) && job.modelVersion !== null) {
      fail('jobs', `job ${job.id} is ${job.status} with modelVersion ${job.modelVersion}`);
    }
    if (
      record.final &&
      (record.final.status !== job.status || record.final.modelVersion !== job.modelVersion)
    ) {
      fail(
        'jobs',
        `job ${job.id} was ${JSON.stringify(record.final)}, now ${job.status} v${job.modelVersion}`,
      );
    }
    if (
      record.seenSucceeded !== undefined &&
      (job.status !== 'succeeded' || job.modelVersion !== record.seenSucceeded)
    ) {
      fail(
        'jobs',
        `job ${job.id} was seen succeeded with v${record.seenSucceeded} before the kill, now ${job.status} v${job.modelVersion}`,
      );
    }
    record.final = { status: job.status, modelVersion: job.modelVersion };
    record.seenSucceeded = undefined;
  }
}

/** What was acknowledged, with its content; nothing that was not uploaded, nothing twice. */
async function checkDatasets({ service, ledger, fail, get }: Check): Promise<void> {
  const datasets = await listAll(service, '/v1/datasets');
  const listed = new Map(datasets.map((d) => [d.id as string, d]));
  if (new Set(datasets.map((d) => d.name)).size !== datasets.length)
    fail('datasets', 'an upload was stored twice');
  for (const dataset of datasets) {
    const attempt = ledger.datasetAttempts.get(dataset.name);
    if (!attempt) {
      fail('datasets', `dataset ${dataset.id} (${dataset.name}) was never uploaded`);
      continue;
    }
    if (dataset.rowCount !== attempt.rowCount) {
      fail(
        'datasets',
        `dataset ${dataset.name} has ${dataset.rowCount} rows, ${attempt.rowCount} were sent`,
      );
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
        'datasets',
        `${record.how} dataset ${record.id} (${record.name}) is gone${ledger.explain(record.ack)}`,
      );
      ledger.datasets.delete(record.id);
      continue;
    }
    if (dataset.checksum !== record.checksum || dataset.rowCount !== record.rowCount) {
      fail(
        'datasets',
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
        'datasets',
        `dataset ${record.name} reads back ${JSON.stringify(rows).slice(0, 200)}, sent ${JSON.stringify(attempt.head).slice(0, 200)}`,
      );
    }
  }
}

/**
 * Versions 1..N per model, every acknowledged one present, every artifact whole (an import's the
 * coefficients sent, a training's from a job that succeeded with it), predictions unchanged.
 */
async function checkVersions({ service, ledger, fail }: Check, jobsById: Map<string, any>) {
  const models = await listAll(service, '/v1/models');
  const versionsByKey = new Map<string, any>();
  const modelsByName = new Map(models.map((m) => [m.name as string, m]));
  for (const model of models) {
    if (!MODELS.includes(model.name)) fail('versions', `model ${model.name} was never created`);
    const versions = (await listAll(service, `/v1/models/${model.name}/versions`)).sort(
      (a, b) => a.version - b.version,
    );
    const numbers = versions.map((v) => v.version as number);
    if (numbers.some((n, i) => n !== i + 1))
      fail('versions', `${model.name} has versions ${numbers.join(',')}, not 1..${numbers.length}`);
    if ((model.latestVersion ?? 0) !== (numbers.at(-1) ?? 0)) {
      fail(
        'versions',
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
          'versions',
          `${model.name} v${version.version} has checksum ${version.checksum}, was ${record.checksum}`,
        );
      }
      if (version.status !== 'ready')
        fail('versions', `${model.name} v${version.version} is ${version.status}`);
      const artifact = await requestJson(
        service.baseUrl,
        'GET',
        `/v1/models/${model.name}/versions/${version.version}/artifact`,
      );
      if (artifact.status !== 200 || sha256(artifact.text) !== version.checksum) {
        fail(
          'versions',
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
            'versions',
            `${model.name} v${version.version} comes from job ${version.trainingJob}, which is ${job ? `${job.status} v${job.modelVersion}` : 'missing'}`,
          );
        }
      } else {
        const sent = ledger.imports.get(version.description);
        if (!sent || sent.model !== model.name)
          fail(
            'versions',
            `${model.name} v${version.version} (${version.description}) was never imported`,
          );
        else if (artifact.status === 200) {
          const stored = JSON.parse(artifact.text);
          if (
            !sameNumbers(stored.coefficients, sent.coefficients) ||
            !Object.is(stored.intercept, sent.intercept)
          ) {
            fail(
              'versions',
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
          'predictions',
          `${model.name} v${version.version}: predict ${predicted.status} ${predicted.text.slice(0, 200)}`,
        );
      else if (!record.predictions) record.predictions = predicted.body.predictions;
      else if (!sameNumbers(record.predictions, predicted.body.predictions)) {
        fail(
          'predictions',
          `${model.name} v${version.version} predicts ${JSON.stringify(predicted.body.predictions)}, first ${JSON.stringify(record.predictions)}`,
        );
      }
    }
  }
  for (const record of [...ledger.versions.values()]) {
    if (!versionsByKey.has(versionKey(record.model, record.version))) {
      fail(
        'versions',
        `${record.how} ${record.model} v${record.version} (${record.checksum.slice(0, 12)}) is gone`,
      );
      ledger.versions.delete(versionKey(record.model, record.version));
    }
  }
  return { versionsByKey, modelsByName };
}

/** A succeeded job's version exists and names it as its training job. */
function checkJobsHaveTheirVersions(
  { fail }: Check,
  jobs: any[],
  versionsByKey: Map<string, any>,
): void {
  for (const job of jobs) {
    if (
      job.status === 'succeeded' &&
      versionsByKey.get(versionKey(job.model, job.modelVersion))?.trainingJob !== job.id
    ) {
      fail(
        'jobs',
        `job ${job.id} succeeded with ${job.model} v${job.modelVersion}, which is not its version`,
      );
    }
  }
}

/**
 * Each alias on a ready version, and on a target its history allows: the latest acknowledged one,
 * or one of a move (PUT, import or job with `alias`) that was not acknowledged or could have
 * committed later; never a refused move's. The audit trail's latest alias event agrees.
 */
async function checkAliases(
  { ledger, fail, get }: Check,
  jobs: any[],
  jobsById: Map<string, any>,
  versionsByKey: Map<string, any>,
  modelsByName: Map<string, any>,
): Promise<void> {
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
          'aliases',
          `alias ${name}/${alias} is ${value}; allowed ${JSON.stringify([...allowed])} (was ${record.baseline}, moves ${JSON.stringify(record.ops)})`,
        );
      }
      if (value !== null && versionsByKey.get(versionKey(name, value))?.status !== 'ready') {
        fail('aliases', `alias ${name}/${alias} points at ${value}, which is not a ready version`);
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
            'aliases',
            `alias ${name}/${alias} is ${version} but its latest event says ${JSON.stringify(latest)}`,
          );
        }
      }
    }
  }
}
