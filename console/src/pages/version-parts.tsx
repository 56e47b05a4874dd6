import { Fragment } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { ApiError, apiUrl, authHeaders, failure, seg } from '../api';
import { asApiError, ErrorNote } from '../components/async';
import { ConfusionLegend, ConfusionMatrix, confusionOf } from '../components/confusion-matrix';
import { LossChart, recordedEpochs } from '../components/loss-chart';
import { bytes, num } from '../format';
import type { ModelVersion, SchemaField } from '../types';

/** Inputs and outputs as the version declares them; a classifier's labels. */
export function SignatureTables({ v }: { v: ModelVersion }) {
  const classes = v.serving?.classes ?? classesFromMetrics(v);
  return (
    <>
      <div class="grid-2">
        <section class="card" aria-labelledby="inputs-heading">
          <h3 id="inputs-heading">Inputs</h3>
          <SchemaTable fields={v.inputSchema} caption="Inputs" />
        </section>
        <section class="card" aria-labelledby="outputs-heading">
          <h3 id="outputs-heading">Outputs</h3>
          <SchemaTable fields={v.outputSchema} caption="Outputs" />
        </section>
      </div>
      {classes && (
        <section class="card" aria-labelledby="classes-heading">
          <h3 id="classes-heading">Classes</h3>
          <p class="hint">In the order of the probability columns.</p>
          <ol class="classes">
            {classes.map((label) => (
              <li key={String(label)}>
                <code>{String(label)}</code>
              </li>
            ))}
          </ol>
        </section>
      )}
      {v.serving?.features && (
        <section class="card" aria-labelledby="features-heading">
          <h3 id="features-heading">Feature names</h3>
          <p class="hint">
            The columns of the tabular input, in order: v1 instances may be objects keyed by them.
          </p>
          <p>
            {v.serving.features.map((feature) => (
              <code class="tag" key={feature}>
                {feature}
              </code>
            ))}
          </p>
        </section>
      )}
    </>
  );
}

function SchemaTable({ fields, caption }: { fields: SchemaField[]; caption: string }) {
  if (fields.length === 0) return <p class="muted">None declared.</p>;
  return (
    <table>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Shape</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((field) => (
          <tr key={field.name}>
            <th scope="row">
              <code>{field.name}</code>
            </th>
            <td>{field.type}</td>
            <td>
              {field.shape ? (
                <code title="-1: a dimension the graph leaves open">
                  [{field.shape.map((size) => (size < 0 ? 'N' : size)).join(', ')}]
                </code>
              ) : (
                <span class="muted">one value per row</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function HyperparametersList({ v }: { v: ModelVersion }) {
  const entries = Object.entries(v.hyperparameters);
  if (entries.length === 0)
    return <p class="muted">None recorded: this version was imported, not trained here.</p>;
  return (
    <dl class="facts">
      {entries.map(([key, value]) => (
        <Fragment key={key}>
          <dt>{key}</dt>
          <dd>
            {typeof value === 'object' && value !== null ? (
              <code>{JSON.stringify(value)}</code>
            ) : (
              num(value)
            )}
          </dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** `metrics` holds one object per split (train, validation); a classifier's add a confusion matrix. */
type SplitMetrics = Record<string, unknown>;

function splitsOf(v: ModelVersion): [string, SplitMetrics][] {
  return Object.entries(v.metrics).filter(
    (entry): entry is [string, SplitMetrics] =>
      typeof entry[1] === 'object' && entry[1] !== null && !Array.isArray(entry[1]),
  );
}

function classesFromMetrics(v: ModelVersion): (string | number)[] | undefined {
  for (const [, metrics] of splitsOf(v))
    if (Array.isArray(metrics.classes)) return metrics.classes as (string | number)[];
  return undefined;
}

const METRIC_NAMES: Record<string, string> = {
  mse: 'MSE',
  rmse: 'RMSE',
  mae: 'MAE',
  r2: 'R²',
  accuracy: 'Accuracy',
  logLoss: 'Log loss',
  precision: 'Precision (macro)',
  recall: 'Recall (macro)',
  f1: 'F1 (macro)',
};

export function MetricsSection({ v, part }: { v: ModelVersion; part: 'table' | 'confusion' }) {
  const splits = splitsOf(v);
  if (part === 'confusion') return <ConfusionMatrices splits={splits} />;
  if (splits.length === 0)
    return <p class="muted">No metrics: this version was imported, not trained here.</p>;
  // Scalar metrics only; the confusion matrix and classes have their own section.
  const names = [
    ...new Set(
      splits.flatMap(([, metrics]) =>
        Object.keys(metrics).filter((name) => typeof metrics[name] === 'number'),
      ),
    ),
  ];
  return (
    <table>
      <caption class="visually-hidden">Metrics per split</caption>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          {splits.map(([split]) => (
            <th scope="col" class="number" key={split}>
              {split}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {names.map((name) => (
          <tr key={name}>
            <th scope="row">
              {METRIC_NAMES[name] ?? name}
              {METRIC_NAMES[name] && <span class="visually-hidden"> ({name})</span>}
            </th>
            {splits.map(([split, metrics]) => (
              <td class="number" key={split}>
                {num(metrics[name])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ConfusionMatrices({ splits }: { splits: [string, SplitMetrics][] }) {
  const withMatrix = splits.flatMap(([split, metrics]) => {
    const confusion = confusionOf(metrics);
    return confusion ? [[split, confusion] as const] : [];
  });
  const [chosen, setChosen] = useState<string | null>(null);
  if (withMatrix.length === 0) return null;
  const current =
    withMatrix.find(([split]) => split === chosen) ??
    withMatrix.find(([split]) => split === 'validation') ??
    withMatrix[0];
  const [split, confusion] = current;
  return (
    <section class="card" aria-labelledby="confusion-heading">
      <h3 id="confusion-heading">Confusion matrix</h3>
      {withMatrix.length > 1 && (
        <label class="inline">
          <span>Split</span>
          <select
            value={split}
            onChange={(event) => setChosen((event.target as HTMLSelectElement).value)}
          >
            {withMatrix.map(([name]) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      )}
      <ConfusionMatrix split={split} {...confusion} />
      <ConfusionLegend />
    </section>
  );
}

/** Training loss per recorded point: by epoch where the points' epochs are known. */
export function LossCurve({ v }: { v: ModelVersion }) {
  const history = useMemo(() => v.lossHistory ?? [], [v]);
  const planned = Number(v.hyperparameters.epochs);
  const epochs = useMemo(
    () => recordedEpochs(history.length, Number.isFinite(planned) ? planned : null, null),
    [history, planned],
  );
  if (v.hyperparameters.optimizer === 'normal-equation') {
    return (
      <p class="muted">
        No curve: the normal equation solves the weights in closed form, in one step, so there are
        no epochs to plot.
        {history.length > 0 && <> Its training loss is {num(history[history.length - 1])}.</>}
      </p>
    );
  }
  if (history.length === 0)
    return <p class="muted">No loss history: this version was imported, not trained here.</p>;
  const last = history[history.length - 1];
  const points = epochs
    ? `${num(history.length)} epochs`
    : `${num(history.length)} recorded points`;
  return (
    <LossChart
      title={`Training loss over ${points}, from ${num(history[0])} to ${num(last)}`}
      epochs={epochs}
      train={history}
      note={`${points}, final loss ${num(last)}.`}
    />
  );
}

/** What the artifact downloads as: as stored, and an ONNX export of a version trained here. */
function formatsOf(v: ModelVersion): { format: 'stored' | 'onnx'; label: string; ext: string }[] {
  if (v.format.startsWith('onnx/')) return [{ format: 'stored', label: 'ONNX', ext: 'onnx' }];
  return [
    { format: 'stored', label: 'JSON', ext: 'json' },
    { format: 'onnx', label: 'ONNX', ext: 'onnx' },
  ];
}

/**
 * The download needs the key header, so a link cannot carry it: fetch into a Blob and save it
 * through a temporary object URL.
 */
export function Downloads({ v }: { v: ModelVersion }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const download = async (format: 'stored' | 'onnx', label: string, ext: string) => {
    setBusy(label);
    setDone(null);
    setError(null);
    try {
      const url = apiUrl(`v1/models/${seg(v.model)}/versions/${v.version}/artifact`, {
        format: format === 'stored' ? undefined : format,
      });
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) throw await failure(response);
      const blob = await response.blob();
      const file = `${v.model}-v${v.version}.${ext}`;
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = file;
      document.body.append(link);
      link.click();
      link.remove();
      // Revoked after the click has handed the blob to the download.
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      setDone(`Saved ${file} (${bytes(blob.size)}).`);
    } catch (problem) {
      setError(asApiError(problem));
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <div class="actions">
        {formatsOf(v).map(({ format, label, ext }) => (
          <button
            type="button"
            key={label}
            disabled={busy !== null}
            onClick={() => download(format, label, ext)}
          >
            {busy === label ? `Downloading ${label}…` : `Download ${label}`}
          </button>
        ))}
      </div>
      <p class="hint">
        {v.format.startsWith('onnx/')
          ? 'The .onnx file as it was registered.'
          : 'JSON: exactly as stored (posting it to POST /v1/models/NAME/versions imports it again). ONNX: the model and its preprocessing as an ONNX graph, for Triton, KServe or any ONNX runtime.'}
      </p>
      {done && (
        <p class="outcome" role="status">
          {done}
        </p>
      )}
      <ErrorNote error={error} />
    </>
  );
}
