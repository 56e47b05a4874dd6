// The versions of a model: a table sortable by any metric, and that metric drawn across versions.

import { Fragment } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { Chart, COLORS } from '../components/chart';
import { num, time } from '../format';
import { href } from '../router';
import type { ModelVersion, SchemaField } from '../types';
import {
  bestBy,
  defaultMetric,
  flatMetrics,
  lowerIsBetter,
  metricNames,
  otherSplit,
  Row,
  Sort,
  SortKey,
  sortRows,
} from './model-metrics';

export function VersionsSection({
  name,
  versions,
  status,
  onStatus,
}: {
  name: string;
  versions: ModelVersion[];
  status: string;
  onStatus: (status: string) => void;
}) {
  const everyRow = useMemo<Row[]>(
    () => versions.map((version) => ({ version, flat: flatMetrics(version.metrics) })),
    [versions],
  );
  // The metrics offered come from every version, so that filtering keeps the choice.
  const names = useMemo(() => metricNames(everyRow), [everyRow]);
  const rows = useMemo(
    () => (status ? everyRow.filter((row) => row.version.status === status) : everyRow),
    [everyRow, status],
  );
  const [chosen, setChosen] = useState<string | null>(null);
  const metric = chosen && names.includes(chosen) ? chosen : defaultMetric(names);
  const [sort, setSort] = useState<Sort | null>(null);
  // Until a header is clicked, the table follows the chosen metric, best first.
  const effective: Sort =
    sort ??
    (metric
      ? { key: `metric:${metric}`, descending: !lowerIsBetter(metric) }
      : { key: 'version', descending: true });
  const sorted = useMemo(
    () => sortRows(rows, effective),
    [rows, effective.key, effective.descending],
  );
  // The table's metric columns: the validation ones (or all when there are none), plus the chosen.
  const columns = useMemo(() => {
    const validation = names.filter((n) => n.startsWith('validation.'));
    const shown = validation.length > 0 ? validation : names;
    return metric && !shown.includes(metric) ? [...shown, metric] : shown;
  }, [names, metric]);

  // Hyperparameters worth a look in the table: those that differ between versions.
  const distinct = useMemo(() => {
    const seen = new Map<string, Set<string>>();
    for (const version of versions) {
      if (version.trainingJob === null) continue;
      for (const [key, value] of Object.entries(version.hyperparameters ?? {})) {
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(JSON.stringify(value));
      }
    }
    return new Set([...seen].filter(([, values]) => values.size > 1).map(([key]) => key));
  }, [versions]);

  const choose = (next: string) => {
    setChosen(next);
    setSort(null);
  };
  const clickHeader = (key: SortKey) =>
    setSort({
      key,
      descending:
        effective.key === key
          ? !effective.descending
          : key.startsWith('metric:')
            ? !lowerIsBetter(key.slice(7))
            : true,
    });

  return (
    <section aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          <span>Metric (sorts the table, drawn below)</span>
          <select
            value={metric ?? ''}
            disabled={names.length === 0}
            onChange={(event) => choose((event.target as HTMLSelectElement).value)}
          >
            {names.length === 0 && <option value="">No version has metrics</option>}
            {names.map((n) => (
              <option key={n} value={n}>
                {n} ({lowerIsBetter(n) ? 'lower' : 'higher'} is better)
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Status</span>
          <select
            value={status}
            onChange={(event) => onStatus((event.target as HTMLSelectElement).value)}
          >
            <option value="">All versions</option>
            <option value="ready">Ready (can serve)</option>
            <option value="archived">Archived</option>
          </select>
        </label>
      </form>
      {rows.length === 0 ? (
        <p class="empty">
          {status
            ? `No ${status} versions. Choose "All versions" to see the others.`
            : 'No versions yet. Start a training job for this model, or import an ONNX model.'}
        </p>
      ) : (
        <>
          <div class="table-scroll">
            <table class="versions">
              <caption class="visually-hidden">
                Versions of {name}, sorted by {describeSort(effective)}
              </caption>
              <thead>
                <tr>
                  <SortHeader
                    label="Version"
                    sortKey="version"
                    sort={effective}
                    onSort={clickHeader}
                  />
                  <th scope="col">Algorithm</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Inputs → outputs</th>
                  {columns.map((column) => (
                    <SortHeader
                      key={column}
                      label={column}
                      sortKey={`metric:${column}`}
                      sort={effective}
                      onSort={clickHeader}
                      number
                      chosen={column === metric}
                    />
                  ))}
                  <SortHeader
                    label="Created"
                    sortKey="createdAt"
                    sort={effective}
                    onSort={clickHeader}
                  />
                </tr>
              </thead>
              <tbody>
                {sorted.map((row) => (
                  <VersionRow
                    key={row.version.version}
                    name={name}
                    row={row}
                    columns={columns}
                    metric={metric}
                    distinct={distinct}
                  />
                ))}
              </tbody>
            </table>
          </div>
          {metric && <MetricChart rows={rows} metric={metric} />}
        </>
      )}
    </section>
  );
}

function describeSort(sort: Sort): string {
  const what =
    sort.key === 'version'
      ? 'version'
      : sort.key === 'createdAt'
        ? 'creation time'
        : sort.key.slice(7);
  return `${what}, ${sort.descending ? 'descending' : 'ascending'}`;
}

function SortHeader({
  label,
  sortKey,
  sort,
  onSort,
  number,
  chosen,
}: {
  label: string;
  sortKey: SortKey;
  sort: Sort;
  onSort: (key: SortKey) => void;
  number?: boolean;
  chosen?: boolean;
}) {
  const active = sort.key === sortKey;
  return (
    <th
      scope="col"
      class={[number ? 'number' : '', chosen ? 'chosen' : ''].join(' ').trim() || undefined}
      aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : undefined}
    >
      <button type="button" class="sort" onClick={() => onSort(sortKey)}>
        {/* Long metric names break after their split: "validation." / "rmse". */}
        {label.split('.').map((part, index) => (
          <Fragment key={index}>
            {index > 0 && '.'}
            {index > 0 && <wbr />}
            {part}
          </Fragment>
        ))}
        <span aria-hidden="true" class="arrow">
          {active ? (sort.descending ? ' ▼' : ' ▲') : ' ↕'}
        </span>
      </button>
    </th>
  );
}

function VersionRow({
  name,
  row,
  columns,
  metric,
  distinct,
}: {
  name: string;
  row: Row;
  columns: string[];
  metric: string | null;
  distinct: Set<string>;
}) {
  const { version } = row;
  return (
    <tr class={version.status === 'archived' ? 'archived' : undefined}>
      <th scope="row">
        <a href={href('models', name, 'versions', version.version)}>v{version.version}</a>
        {version.status === 'archived' && <div class="muted small">archived</div>}
      </th>
      <td class="algorithm">
        {version.algorithm}
        <div class="muted small">
          {version.trainingJob === null
            ? 'imported'
            : hyperparameters(version.hyperparameters, distinct)}
        </div>
      </td>
      <td>
        {version.aliases.length === 0
          ? '—'
          : version.aliases.map((alias) => (
              <span class="badge" key={alias}>
                {alias}
              </span>
            ))}
      </td>
      <td>
        <Signature inputs={version.inputSchema} outputs={version.outputSchema} />
      </td>
      {columns.map((column) => (
        <td key={column} class={column === metric ? 'number chosen' : 'number'}>
          {num(row.flat[column])}
        </td>
      ))}
      <td class="nowrap">{time(version.createdAt)}</td>
    </tr>
  );
}

/** What told this version's training apart from the others', in one line. */
function hyperparameters(values: Record<string, unknown>, distinct: Set<string>): string {
  return Object.entries(values ?? {})
    .filter(([key]) => distinct.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'number' ? num(value) : String(value)}`)
    .join(' · ');
}

/** A version's signature, short in the row and whole on demand. */
function Signature({ inputs, outputs }: { inputs: SchemaField[]; outputs: SchemaField[] }) {
  const field = (f: SchemaField) =>
    `${f.name}: ${f.type}${f.shape ? ` [${f.shape.join(', ')}]` : ''}`;
  return (
    <details class="signature">
      <summary>
        {inputs.length} input{inputs.length === 1 ? '' : 's'} →{' '}
        {outputs.map((f) => f.name).join(', ') || 'no outputs'}
      </summary>
      <div class="small">
        <strong>Inputs</strong>
        <ul>
          {inputs.map((f) => (
            <li key={f.name}>
              <code>{field(f)}</code>
            </li>
          ))}
        </ul>
        <strong>Outputs</strong>
        <ul>
          {outputs.map((f) => (
            <li key={f.name}>
              <code>{field(f)}</code>
            </li>
          ))}
        </ul>
      </div>
    </details>
  );
}

/** The chosen metric across version numbers; versions without it are gaps in the line. */
function MetricChart({ rows, metric }: { rows: Row[]; metric: string }) {
  const ordered = useMemo(
    () => [...rows].sort((a, b) => a.version.version - b.version.version),
    [rows],
  );
  const other = otherSplit(metric);
  const hasOther = other !== null && ordered.some((row) => row.flat[other] !== undefined);
  const x = useMemo(() => ordered.map((row) => row.version.version), [ordered]);
  const series = useMemo(
    () => [
      { label: metric, values: ordered.map((row) => row.flat[metric] ?? null), color: COLORS[0] },
      ...(hasOther && other
        ? [
            {
              label: other,
              values: ordered.map((row) => row.flat[other] ?? null),
              color: COLORS[1],
            },
          ]
        : []),
    ],
    [ordered, metric, other, hasOther],
  );
  // Tick labels at whole version numbers only (uPlot may put ticks between them).
  const ticks = useMemo(() => {
    const labels: string[] = [];
    for (const version of x) labels[version] = `v${version}`;
    return Array.from(labels, (label) => label ?? '');
  }, [x]);
  const best = bestBy(rows, metric);
  const missing = ordered
    .filter((row) => row.flat[metric] === undefined)
    .map((r) => `v${r.version.version}`);
  if (!best) return <p class="empty">No version listed has {metric}: choose another metric.</p>;
  return (
    <figure class="card metric-chart">
      <figcaption>
        <strong>{metric}</strong> across versions ({lowerIsBetter(metric) ? 'lower' : 'higher'} is
        better)
        {best && (
          <>
            . Best:{' '}
            <a href={href('models', best.version.model, 'versions', best.version.version)}>
              v{best.version.version}
            </a>{' '}
            with {num(best.flat[metric])}
          </>
        )}
        {missing.length > 0 && <span class="muted"> · without it: {missing.join(', ')}</span>}
      </figcaption>
      <Chart
        title={`${metric}${hasOther ? ` and ${other}` : ''} by version number`}
        x={x}
        xLabel="version"
        xTicks={ticks}
        series={series}
        height={240}
      />
    </figure>
  );
}
