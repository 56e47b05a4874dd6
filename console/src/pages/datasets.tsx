import { useState } from 'preact/hooks';
import { del, get, Page, seg } from '../api';
import { Loaded, useAsync } from '../components/async';
import { ConfirmButton } from '../components/confirm';
import { PageTitle } from '../components/layout';
import { bytes, num, time } from '../format';
import { href, navigate } from '../router';
import { can } from '../session';
import type { DatasetColumn, DatasetRecord, DatasetRows } from './datasets-types';
import { UploadForm } from './datasets-upload';
import { Pager } from './models';
import './datasets.css';

const PAGE = 50;
const PREVIEW = 50;

/** Every dataset, newest first, and (for keys that may write) the upload form. */
export function DatasetsPage() {
  const [offset, setOffset] = useState(0);
  const datasets = useAsync(
    () => get<Page<DatasetRecord>>('v1/datasets', { limit: PAGE, offset }),
    [offset],
  );
  return (
    <>
      <PageTitle>Datasets</PageTitle>
      {can('write') && <UploadForm />}
      <h2>All datasets</h2>
      <Loaded state={datasets}>
        {(page) =>
          page.total === 0 ? (
            <p class="empty">
              No datasets yet.{' '}
              {can('write')
                ? 'Upload a CSV above to train a model on it.'
                : 'Ask someone with a trainer or admin key to upload one.'}
            </p>
          ) : (
            <>
              <table>
                <caption class="visually-hidden">Datasets, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Dataset</th>
                    <th scope="col" class="number">
                      Rows
                    </th>
                    <th scope="col" class="number">
                      Columns
                    </th>
                    <th scope="col" class="number">
                      Size
                    </th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((dataset) => (
                    <tr key={dataset.id}>
                      <th scope="row">
                        <a href={href('datasets', dataset.id)}>{dataset.name}</a>
                        <div class="muted small">
                          <code>{dataset.id.slice(0, 8)}</code>
                        </div>
                      </th>
                      <td class="number">{num(dataset.rowCount)}</td>
                      <td class="number">{num(dataset.columns.length)}</td>
                      <td class="number">{bytes(dataset.sizeBytes)}</td>
                      <td>{time(dataset.createdAt)}</td>
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

/** One dataset: its facts, a summary per column and a preview of its rows. */
export function DatasetPage({ id }: { id: string }) {
  const dataset = useAsync(() => get<DatasetRecord>(`v1/datasets/${seg(id)}`), [id]);
  return (
    <>
      <PageTitle>Dataset {dataset.data?.name ?? ''}</PageTitle>
      <Loaded state={dataset}>
        {(data) => (
          <>
            <div class="grid-2">
              <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title" class="card-title">
                  Facts
                </h2>
                <dl class="facts">
                  <dt>Id</dt>
                  <dd>
                    <code>{data.id}</code>
                  </dd>
                  <dt>Name</dt>
                  <dd>{data.name}</dd>
                  <dt>Rows</dt>
                  <dd>{num(data.rowCount)}</dd>
                  <dt>Columns</dt>
                  <dd>{num(data.columns.length)}</dd>
                  <dt>Stored size</dt>
                  <dd>{bytes(data.sizeBytes)}</dd>
                  <dt>Checksum</dt>
                  <dd>
                    <code class="checksum">{data.checksum}</code>
                  </dd>
                  <dt>Created</dt>
                  <dd>{time(data.createdAt)}</dd>
                </dl>
              </section>
              <section class="card" aria-labelledby="next-title">
                <h2 id="next-title" class="card-title">
                  Use it
                </h2>
                {can('write') ? (
                  <p>
                    <a href={`${href('training', 'new')}?dataset=${seg(data.id)}`}>
                      Train a model on this dataset
                    </a>
                  </p>
                ) : (
                  <p class="muted">Training needs a trainer or admin key.</p>
                )}
                <p class="hint">
                  A job may name the dataset by id or by name (<code>{data.name}</code>: the newest
                  dataset of that name).
                </p>
                {can('admin') && (
                  <div class="actions">
                    <ConfirmButton
                      label="Delete dataset"
                      danger
                      question={
                        <p>
                          Delete dataset <strong>{data.name}</strong> (
                          <code>{data.id.slice(0, 8)}</code>, {num(data.rowCount)} rows)? Models
                          trained on it keep working; a queued or running job that uses it stops the
                          delete.
                        </p>
                      }
                      action={async () => {
                        await del(`v1/datasets/${seg(data.id)}`);
                        navigate('#/datasets');
                        return `Deleted dataset ${data.name}.`;
                      }}
                    />
                  </div>
                )}
              </section>
            </div>
            <DatasetContent dataset={data} />
          </>
        )}
      </Loaded>
    </>
  );
}

/** The column summary and the preview share a page of rows: the summary's samples come from it. */
function DatasetContent({ dataset }: { dataset: DatasetRecord }) {
  const [offset, setOffset] = useState(0);
  const rows = useAsync(
    () => get<DatasetRows>(`v1/datasets/${seg(dataset.id)}/rows`, { limit: PREVIEW, offset }),
    [dataset.id, offset],
  );
  const sample = rows.data;
  return (
    <>
      <h2 id="columns-title">Columns</h2>
      <ColumnSummary dataset={dataset} sample={sample} />
      <h2 id="preview-title">Rows</h2>
      <Loaded state={rows}>
        {(page) =>
          page.total === 0 ? (
            <p class="empty">This dataset has no rows.</p>
          ) : (
            <>
              <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="preview-title">
                <table class="preview">
                  <caption class="visually-hidden">
                    Rows {num(page.offset + 1)} to {num(page.offset + page.rows.length)} of{' '}
                    {num(page.total)}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col" class="number">
                        #
                      </th>
                      {page.columns.map((column) => (
                        <th
                          scope="col"
                          key={column}
                          class={
                            dataset.columns.find((c) => c.name === column)?.type === 'number'
                              ? 'number'
                              : undefined
                          }
                        >
                          {column}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {page.rows.map((row, i) => (
                      <tr key={page.offset + i}>
                        <th scope="row" class="number muted">
                          {num(page.offset + i + 1)}
                        </th>
                        {row.map((cell, j) => (
                          <td key={j} class={typeof cell === 'number' ? 'number' : undefined}>
                            <Cell value={cell} />
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager total={page.total} offset={offset} size={PREVIEW} onChange={setOffset} />
            </>
          )
        }
      </Loaded>
    </>
  );
}

function Cell({ value }: { value: number | string | null }) {
  if (value === null)
    return (
      <span class="missing" title="missing">
        —<span class="visually-hidden"> missing</span>
      </span>
    );
  return <>{typeof value === 'number' ? num(value, 8) : value}</>;
}

/**
 * Per column: its type and missing cells (from the API, over all rows), plus what the shown page
 * of rows holds (range or distinct values), labelled as such since it is only a sample.
 */
function ColumnSummary({ dataset, sample }: { dataset: DatasetRecord; sample?: DatasetRows }) {
  const shown = sample && sample.rows.length > 0 ? sample : undefined;
  const sampleLabel = shown
    ? `In rows ${num(shown.offset + 1)}–${num(shown.offset + shown.rows.length)}`
    : 'In the shown rows';
  return (
    <table class="columns">
      <caption class="visually-hidden">
        Columns of {dataset.name}; the last column only looks at the rows shown below
      </caption>
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">Type</th>
          <th scope="col" class="number">
            Missing (all rows)
          </th>
          <th scope="col">{sampleLabel}</th>
        </tr>
      </thead>
      <tbody>
        {dataset.columns.map((column, index) => (
          <tr key={column.name}>
            <th scope="row">
              <code>{column.name}</code>
            </th>
            <td>
              <span class="badge">{column.type === 'number' ? 'number' : 'text'}</span>
            </td>
            <td class="number">
              {num(column.missing)}
              {dataset.rowCount > 0 && column.missing > 0 && (
                <span class="muted small">
                  {' '}
                  ({num((column.missing / dataset.rowCount) * 100, 2)}%)
                </span>
              )}
            </td>
            <td>{shown ? <SampleSummary column={column} sample={shown} index={index} /> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SampleSummary({
  column,
  sample,
  index,
}: {
  column: DatasetColumn;
  sample: DatasetRows;
  index: number;
}) {
  const at = sample.columns.indexOf(column.name);
  const values = sample.rows.map((row) => row[at === -1 ? index : at]).filter((v) => v !== null);
  if (values.length === 0) return <span class="muted">all missing</span>;
  if (column.type === 'number') {
    const numbers = values as number[];
    return (
      <span>
        {num(Math.min(...numbers))} to {num(Math.max(...numbers))}
      </span>
    );
  }
  const counts = new Map<string, number>();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4);
  return (
    <span>
      {num(counts.size)} distinct:{' '}
      {top.map(([value, count]) => (
        <span class="tag" key={value}>
          {value} ×{num(count)}
        </span>
      ))}
      {counts.size > top.length && '…'}
    </span>
  );
}
