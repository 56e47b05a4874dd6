import { useEffect, useState } from 'preact/hooks';
import { get, Page, post, seg } from '../api';
import { ErrorNote, Loaded, useAsync } from '../components/async';
import { ConfirmButton } from '../components/confirm';
import { ConfusionLegend, ConfusionMatrix, confusionOf } from '../components/confusion-matrix';
import { PageTitle } from '../components/layout';
import { LossChart } from '../components/loss-chart';
import { num, time } from '../format';
import { href } from '../router';
import { can } from '../session';
import type { DatasetRecord } from './datasets-types';
import { Pager } from './models';
import { curveOf, plannedEpochs, useJobEvents, type Curve } from './training-live';
import { isActive, JOB_STATUSES, type JobRecord, type JobStatus } from './training-types';
import './training.css';

export { NewJobPage } from './training-form';

const PAGE = 50;
const REFRESH_MS = 2000;

/** Every job, newest first, filtered by status; refreshed while any job shown is still going. */
export function TrainingJobsPage() {
  const [status, setStatus] = useState<JobStatus | ''>('');
  const [offset, setOffset] = useState(0);
  const jobs = useAsync(
    () => get<Page<JobRecord>>('v1/training-jobs', { status, limit: PAGE, offset }),
    [status, offset],
  );
  const going = jobs.data?.items.some((job) => isActive(job.status)) ?? false;
  useEffect(() => {
    if (!going || jobs.loading) return;
    const timer = setTimeout(jobs.reload, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [going, jobs.data, jobs.loading]);

  return (
    <>
      <PageTitle>Training jobs</PageTitle>
      <div class="filters jobs-filters">
        <label>
          <span>Status</span>
          <select
            value={status}
            onChange={(event) => {
              setOffset(0);
              setStatus((event.target as HTMLSelectElement).value as JobStatus | '');
            }}
          >
            <option value="">Any</option>
            {JOB_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        {can('write') && (
          <a class="button-link primary" href={href('training', 'new')}>
            New training job
          </a>
        )}
        {going && (
          <span class="muted small refreshing" role="status">
            Jobs are running: refreshing every {REFRESH_MS / 1000} s.
          </span>
        )}
      </div>
      <Loaded state={jobs}>
        {(page) =>
          page.total === 0 ? (
            <p class="empty">
              No {status ? `${status} ` : ''}training jobs
              {status ? '' : ' yet'}.{' '}
              {can('write')
                ? 'Start one from a dataset, or with “New training job”.'
                : 'Training needs a trainer or admin key.'}
            </p>
          ) : (
            <>
              <table>
                <caption class="visually-hidden">Training jobs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Status</th>
                    <th scope="col">Algorithm</th>
                    <th scope="col">Progress</th>
                    <th scope="col">Created</th>
                    <th scope="col">Job</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((job) => (
                    <tr key={job.id}>
                      <th scope="row">
                        <a href={href('models', job.model)}>{job.model}</a>
                        {job.modelVersion !== null && (
                          <>
                            {' '}
                            <a
                              class="small"
                              href={href('models', job.model, 'versions', job.modelVersion)}
                            >
                              v{job.modelVersion}
                            </a>
                          </>
                        )}
                      </th>
                      <td>
                        <StatusLabel status={job.status} />
                      </td>
                      <td>{job.algorithm}</td>
                      <td>
                        <JobProgress job={job} compact />
                      </td>
                      <td>{time(job.createdAt)}</td>
                      <td>
                        <a href={href('training', job.id)} aria-label={`Job ${job.id} details`}>
                          <code>{job.id.slice(0, 8)}</code>
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager total={page.total} offset={offset} size={PAGE} onChange={setOffset} />
            </>
          )
        }
      </Loaded>
    </>
  );
}

function StatusLabel({ status }: { status: JobStatus }) {
  return <span class={`status-${status}`}>{status}</span>;
}

function JobProgress({ job, compact }: { job: JobRecord; compact?: boolean }) {
  const percent = Math.round(job.progress * 100);
  return (
    <div class={compact ? 'job-progress compact' : 'job-progress'}>
      <progress max={1} value={job.progress} aria-label={`Progress of ${job.model}`} />
      <span>{percent}%</span>
    </div>
  );
}

/** One job: its status, live loss curve while it runs, and what it made. */
export function JobPage({ id }: { id: string }) {
  const loaded = useAsync(() => get<JobRecord>(`v1/training-jobs/${seg(id)}`), [id]);
  const [job, setJob] = useState<JobRecord | null>(null);
  const [curve, setCurve] = useState<Curve | null>(null);

  // A fresh load (first time or another job) replaces what the stream built.
  useEffect(() => {
    if (!loaded.data) return;
    setJob(loaded.data);
    setCurve(curveOf(loaded.data));
  }, [loaded.data]);

  const current = job && job.id === id ? job : null;
  const active = current !== null && isActive(current.status);
  const stream = useJobEvents(
    id,
    active,
    (event) => {
      if (!current) return;
      const { status, progress, lossHistory } = event;
      const live = { ...current, status, progress, lossHistory };
      setJob(live);
      setCurve(curveOf(live));
    },
    (finished) => {
      setJob(finished);
      setCurve(curveOf(finished));
    },
  );

  return (
    <>
      <PageTitle>
        Training job{current ? ` for ${current.model}` : ''}{' '}
        {current && <StatusLabel status={current.status} />}
      </PageTitle>
      {loaded.error || !current ? (
        <Loaded state={loaded}>{() => null}</Loaded>
      ) : (
        <JobDetails
          job={current}
          curve={curve}
          live={stream.state}
          streamError={stream.error}
          onChange={(changed) => {
            setJob(changed);
            setCurve(curveOf(changed));
          }}
        />
      )}
    </>
  );
}

function JobDetails({
  job,
  curve,
  live,
  streamError,
  onChange,
}: {
  job: JobRecord;
  curve: Curve | null;
  live: string;
  streamError: ReturnType<typeof useJobEvents>['error'];
  onChange: (job: JobRecord) => void;
}) {
  const active = isActive(job.status);
  return (
    <>
      <section class="card job-status" aria-labelledby="status-title">
        <h2 id="status-title" class="card-title">
          Status
        </h2>
        <JobProgress job={job} />
        <p role="status" class="job-status-line">
          {statusLine(job, live)}
        </p>
        <ErrorNote error={streamError} />
        {job.status === 'failed' && job.error && (
          <div class="error job-error">
            <strong>The job failed.</strong> {job.error}
          </div>
        )}
        {job.modelVersion !== null && (
          <p>
            Registered{' '}
            <a href={href('models', job.model, 'versions', job.modelVersion)}>
              {job.model} version {job.modelVersion}
            </a>
            {job.alias && (
              <>
                {' '}
                and pointed <span class="badge">{job.alias}</span> at it
              </>
            )}
            .
          </p>
        )}
        {active && can('write') && (
          <div class="actions">
            <ConfirmButton
              label="Cancel job"
              danger
              question={
                <p>
                  Cancel the training of <strong>{job.model}</strong>? The run stops and registers
                  no version.
                </p>
              }
              action={async () => {
                const cancelled = await post<JobRecord>(`v1/training-jobs/${seg(job.id)}/cancel`);
                onChange(cancelled);
                return 'Job cancelled.';
              }}
            />
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="curve-title">
        <h2 id="curve-title" class="card-title">
          Loss
        </h2>
        <LossCurve job={job} curve={curve} />
      </section>
      {job.metrics && <Metrics job={job} />}
      <section class="card" aria-labelledby="facts-title">
        <h2 id="facts-title" class="card-title">
          Job
        </h2>
        <JobFacts job={job} />
      </section>
    </>
  );
}

function statusLine(job: JobRecord, live: string): string {
  const planned = plannedEpochs(job);
  const epoch = planned
    ? ` (about epoch ${num(Math.round(job.progress * planned))} of ${num(planned)})`
    : '';
  switch (job.status) {
    case 'queued':
      return `Queued: waiting for a runner.${live === 'reconnecting' ? ' Reconnecting…' : ''}`;
    case 'running':
      return `Running: ${Math.round(job.progress * 100)}%${epoch}.${
        live === 'reconnecting' ? ' Reconnecting to the progress stream…' : ''
      }`;
    case 'succeeded':
      return `Succeeded ${time(job.finishedAt)}.`;
    case 'failed':
      return `Failed ${time(job.finishedAt)}.`;
    case 'cancelled':
      return `Cancelled ${time(job.finishedAt)}.`;
  }
}

function LossCurve({ job, curve }: { job: JobRecord; curve: Curve | null }) {
  const active = isActive(job.status);
  if (!curve || curve.loss.length === 0)
    return (
      <p class="muted">
        {active ? 'The curve appears with the first epochs.' : 'This job recorded no loss curve.'}
      </p>
    );
  if (curve.loss.length === 1 && job.training?.epochsRun === 0)
    return (
      <p>
        Fitted in closed form (no epochs): loss <strong>{num(curve.loss[0])}</strong>.
      </p>
    );
  const last = curve.loss.length - 1;
  const at = curve.x ? `epoch ${num(curve.x[last])}` : `recorded point ${num(last + 1)}`;
  return (
    <LossChart
      title={`Loss by epoch of the ${job.model} training job${active ? ', growing while it runs' : ''}`}
      epochs={curve.x}
      train={curve.loss}
      validation={curve.validation}
      note={
        <>
          Latest training loss {num(curve.loss[last])} at {at}.
          {active && ' The curve grows with each progress update (epochs estimated from progress).'}
        </>
      }
    />
  );
}

function Metrics({ job }: { job: JobRecord }) {
  const metrics = job.metrics!;
  const train = confusionOf(metrics.train);
  const validation = metrics.validation && confusionOf(metrics.validation);
  // Scalars in the table; a classifier's confusion matrices below it.
  const names = [
    ...new Set([...Object.keys(metrics.train), ...Object.keys(metrics.validation ?? {})]),
  ].filter(
    (name) =>
      typeof metrics.train[name] === 'number' || typeof metrics.validation?.[name] === 'number',
  );
  return (
    <section class="card" aria-labelledby="metrics-title">
      <h2 id="metrics-title" class="card-title">
        Metrics
      </h2>
      <table class="metrics">
        <caption class="visually-hidden">Metrics on the training and validation rows</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" class="number">
              Training rows{job.training && ` (${num(job.training.trainRows)})`}
            </th>
            {metrics.validation && (
              <th scope="col" class="number">
                Validation rows{job.training && ` (${num(job.training.validationRows)})`}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td class="number">{num(metrics.train[name])}</td>
              {metrics.validation && <td class="number">{num(metrics.validation[name])}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {(train || validation) && (
        <>
          <div class="grid-2 confusion">
            {train && <ConfusionMatrix split="Training" {...train} />}
            {validation && <ConfusionMatrix split="Validation" {...validation} />}
          </div>
          <ConfusionLegend />
        </>
      )}
      {job.training && (
        <p class="hint">
          {job.training.epochsRun === 0
            ? 'Fitted in closed form.'
            : `Ran ${num(job.training.epochsRun)} epochs${
                job.training.stoppedEarly ? ', stopped early' : ''
              }.`}
        </p>
      )}
    </section>
  );
}

function JobFacts({ job }: { job: JobRecord }) {
  const dataset = useAsync(
    () => get<DatasetRecord>(`v1/datasets/${seg(job.dataset)}`).catch(() => null),
    [job.dataset],
  );
  return (
    <dl class="facts">
      <dt>Id</dt>
      <dd>
        <code>{job.id}</code>
      </dd>
      <dt>Model</dt>
      <dd>
        <a href={href('models', job.model)}>{job.model}</a>
      </dd>
      <dt>Dataset</dt>
      <dd>
        <a href={href('datasets', job.dataset)}>{dataset.data?.name ?? job.dataset}</a>
        {dataset.data === null && <span class="muted small"> (deleted)</span>}
      </dd>
      <dt>Target</dt>
      <dd>
        <code>{job.target}</code>
      </dd>
      <dt>Features</dt>
      <dd>
        {job.features.map((feature) => (
          <span class="tag" key={feature}>
            {feature}
          </span>
        ))}
      </dd>
      <dt>Algorithm</dt>
      <dd>{job.algorithm}</dd>
      <dt>Hyperparameters</dt>
      <dd>
        {Object.entries(job.hyperparameters).map(([name, value]) => (
          <span class="tag" key={name}>
            {/* As given, not rounded: these are settings someone typed. */}
            {name}: {typeof value === 'object' ? JSON.stringify(value) : String(value)}
          </span>
        ))}
      </dd>
      <dt>Validation split</dt>
      <dd>{num(job.validationSplit)}</dd>
      <dt>Seed</dt>
      <dd>{String(job.seed)}</dd>
      <dt>Alias</dt>
      <dd>{job.alias ?? '—'}</dd>
      <dt>Created</dt>
      <dd>
        {time(job.createdAt)}
        {job.createdBy && <span class="muted"> by {job.createdBy}</span>}
      </dd>
      <dt>Started</dt>
      <dd>{time(job.startedAt)}</dd>
      <dt>Finished</dt>
      <dd>{time(job.finishedAt)}</dd>
      <dt>Attempts</dt>
      <dd>{num(job.attempts)}</dd>
    </dl>
  );
}
