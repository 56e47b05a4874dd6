import { useEffect, useMemo, useState } from 'preact/hooks';
import { all, ApiError, get, post } from '../api';
import { asApiError, ErrorNote, Loaded, useAsync } from '../components/async';
import { PageTitle } from '../components/layout';
import { bytes, num } from '../format';
import { href, navigate } from '../router';
import { can } from '../session';
import { NAME_PATTERN, type DatasetRecord } from './datasets-types';
import type { AlgorithmInfo, HyperparameterInfo, JobRecord } from './training-types';

/** A form that starts a training job; `dataset` preselects one. */
export function NewJobPage({ dataset }: { dataset?: string }) {
  const datasets = useAsync(() => all<DatasetRecord>('v1/datasets'), []);
  const algorithms = useAsync(
    () => get<{ items: AlgorithmInfo[] }>('v1/algorithms').then((answer) => answer.items),
    [],
  );
  return (
    <>
      <PageTitle>New training job</PageTitle>
      {!can('write') ? (
        <p class="notice">
          Starting a training job needs a trainer or admin key; this key may only look.{' '}
          <a href={href('training')}>See the jobs.</a>
        </p>
      ) : (
        <Loaded state={datasets}>
          {(list) =>
            list.length === 0 ? (
              <p class="empty">
                There is no dataset to train on yet: <a href="#/datasets">upload a CSV</a> first.
              </p>
            ) : (
              <Loaded state={algorithms}>
                {(items) => <JobForm datasets={list} algorithms={items} preselect={dataset} />}
              </Loaded>
            )
          }
        </Loaded>
      )}
    </>
  );
}

/** The form's hyperparameter values as typed, by name. */
type Values = Record<string, string>;

function defaultOptimizer(algorithm: AlgorithmInfo): string {
  return algorithm.defaultOptimizer ?? algorithm.optimizers[0];
}

function defaultsOf(algorithm: AlgorithmInfo, optimizer: string): Values {
  const defaults = algorithm.defaults[optimizer] ?? {};
  const values: Values = {};
  for (const spec of algorithm.hyperparameters) {
    const value = defaults[spec.name];
    if (value !== undefined && typeof value !== 'object') values[spec.name] = String(value);
  }
  return values;
}

/** The last column that suits the task (a number to regress, text labels to classify), else the last. */
function defaultTarget(columns: DatasetRecord['columns'], task?: AlgorithmInfo['task']): string {
  const wanted = task === 'regression' ? 'number' : 'string';
  const fits = columns.filter((column) => column.type === wanted);
  return (fits[fits.length - 1] ?? columns[columns.length - 1])?.name ?? '';
}

/** The hyperparameters the optimizer uses (the optimizer itself has its own select). */
function shownSpecs(algorithm: AlgorithmInfo, optimizer: string): HyperparameterInfo[] {
  return algorithm.hyperparameters.filter(
    (spec) => spec.name !== 'optimizer' && spec.optimizers.includes(optimizer),
  );
}

function JobForm({
  datasets,
  algorithms,
  preselect,
}: {
  datasets: DatasetRecord[];
  algorithms: AlgorithmInfo[];
  preselect?: string;
}) {
  const initial =
    datasets.find((d) => d.id === preselect) ?? datasets.find((d) => d.name === preselect);
  const [datasetId, setDatasetId] = useState(initial?.id ?? datasets[0].id);
  const chosen = datasets.find((d) => d.id === datasetId) ?? datasets[0];
  const columns = chosen.columns;
  const [model, setModel] = useState('');
  const [algorithmName, setAlgorithmName] = useState(algorithms[0]?.name ?? '');
  const algorithm = algorithms.find((a) => a.name === algorithmName) ?? algorithms[0];
  const [target, setTarget] = useState(() => defaultTarget(columns, algorithm?.task));
  const [features, setFeatures] = useState<string[]>(() =>
    columns.filter((column) => column.name !== target).map((column) => column.name),
  );
  const [optimizer, setOptimizer] = useState(algorithm ? defaultOptimizer(algorithm) : '');
  const [values, setValues] = useState<Values>(() =>
    algorithm ? defaultsOf(algorithm, optimizer) : {},
  );
  const [validationSplit, setValidationSplit] = useState('0.2');
  const [seed, setSeed] = useState('');
  const [alias, setAlias] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  // A new dataset: a target that suits the algorithm, every other column a feature.
  const chooseDataset = (id: string) => {
    const next = datasets.find((d) => d.id === id)!;
    setDatasetId(id);
    const name = defaultTarget(next.columns, algorithm?.task);
    setTarget(name);
    setFeatures(next.columns.filter((c) => c.name !== name).map((c) => c.name));
  };
  const chooseTarget = (name: string) => {
    setTarget(name);
    setFeatures(columns.filter((c) => c.name !== name).map((c) => c.name));
  };
  const chooseAlgorithm = (name: string) => {
    const next = algorithms.find((a) => a.name === name)!;
    const nextOptimizer = next.optimizers.includes(optimizer) ? optimizer : defaultOptimizer(next);
    setAlgorithmName(name);
    setOptimizer(nextOptimizer);
    setValues(defaultsOf(next, nextOptimizer));
  };
  const chooseOptimizer = (name: string) => {
    setOptimizer(name);
    setValues(defaultsOf(algorithm, name));
  };

  // A model name to start from: the dataset's name, until someone types one.
  const [modelTouched, setModelTouched] = useState(false);
  useEffect(() => {
    if (!modelTouched) setModel(chosen.name);
  }, [chosen.name, modelTouched]);

  const specs = useMemo(
    () => (algorithm ? shownSpecs(algorithm, optimizer) : []),
    [algorithm, optimizer],
  );
  const problems = useMemo(() => fieldProblems(error), [error]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const hyperparameters: Record<string, unknown> = { optimizer };
    for (const spec of specs) {
      const raw = values[spec.name];
      if (raw === undefined || raw === '') continue;
      hyperparameters[spec.name] =
        spec.type === 'number' || spec.type === 'integer' ? Number(raw) : raw;
    }
    try {
      const job = await post<JobRecord>('v1/training-jobs', {
        model,
        dataset: datasetId,
        target,
        features,
        algorithm: algorithmName,
        hyperparameters,
        validationSplit: Number(validationSplit),
        ...(seed === '' ? {} : { seed: Number(seed) }),
        ...(alias === '' ? {} : { alias }),
      });
      navigate(href('training', job.id));
    } catch (failed) {
      setError(asApiError(failed));
      setBusy(false);
    }
  };

  if (!algorithm) return <p class="empty">The service lists no algorithms.</p>;

  return (
    <form class="stack job-form" onSubmit={submit}>
      <fieldset>
        <legend>What to train</legend>
        <div class="field">
          <label>
            <span>Model name</span>
            <input
              type="text"
              value={model}
              required
              pattern={NAME_PATTERN}
              {...describedBy('model', problems, 'model-hint')}
              onInput={(event) => {
                setModelTouched(true);
                setModel((event.target as HTMLInputElement).value);
              }}
            />
          </label>
          <span class="hint" id="model-hint">
            The result is registered as the next version of this model (created when missing).
          </span>
          <FieldError field="model" problems={problems} />
        </div>
        <div class="field">
          <label>
            <span>Dataset</span>
            <select
              value={datasetId}
              {...describedBy('dataset', problems)}
              onChange={(event) => chooseDataset((event.target as HTMLSelectElement).value)}
            >
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({num(d.rowCount)} rows, {bytes(d.sizeBytes)}, {d.id.slice(0, 8)})
                </option>
              ))}
            </select>
          </label>
          <FieldError field="dataset" problems={problems} />
        </div>
        <div class="field">
          <label>
            <span>Target (the column to predict)</span>
            <select
              value={target}
              {...describedBy('target', problems, 'target-hint')}
              onChange={(event) => chooseTarget((event.target as HTMLSelectElement).value)}
            >
              {columns.map((column) => (
                <option key={column.name} value={column.name}>
                  {column.name} ({column.type === 'number' ? 'number' : 'text'})
                </option>
              ))}
            </select>
          </label>
          <span class="hint" id="target-hint">
            {algorithm.task === 'regression'
              ? `${algorithm.name} predicts a number: choose a number column.`
              : `${algorithm.name} predicts a class: choose a column of labels.`}
          </span>
          <FieldError field="target" problems={problems} />
        </div>
        <fieldset class="features" aria-describedby="features-hint">
          <legend>Features</legend>
          <p class="hint" id="features-hint">
            The columns the model reads. Missing values are imputed; text columns are one-hot
            encoded.
          </p>
          <div class="checks">
            {columns
              .filter((column) => column.name !== target)
              .map((column) => (
                <label class="check" key={column.name}>
                  <input
                    type="checkbox"
                    checked={features.includes(column.name)}
                    onChange={(event) => {
                      const on = (event.target as HTMLInputElement).checked;
                      setFeatures((previous) =>
                        columns
                          .map((c) => c.name)
                          .filter((name) => (name === column.name ? on : previous.includes(name))),
                      );
                    }}
                  />
                  <span>
                    {column.name} <span class="muted small">({column.type})</span>
                  </span>
                </label>
              ))}
          </div>
          {features.length === 0 && (
            <p class="hint warn" role="status">
              Choose at least one feature.
            </p>
          )}
          <FieldError field="features" problems={problems} />
        </fieldset>
      </fieldset>
      <fieldset>
        <legend>How to train</legend>
        <div class="field">
          <label>
            <span>Algorithm</span>
            <select
              value={algorithmName}
              aria-describedby="algorithm-hint"
              onChange={(event) => chooseAlgorithm((event.target as HTMLSelectElement).value)}
            >
              {algorithms.map((a) => (
                <option key={a.name} value={a.name}>
                  {a.name} ({a.task})
                </option>
              ))}
            </select>
          </label>
          <span class="hint" id="algorithm-hint">
            {algorithm.description}
          </span>
          <FieldError field="algorithm" problems={problems} />
        </div>
        <div class="field">
          <label>
            <span>Optimizer</span>
            <select
              value={optimizer}
              {...describedBy('hyperparameters.optimizer', problems, 'optimizer-hint')}
              onChange={(event) => chooseOptimizer((event.target as HTMLSelectElement).value)}
            >
              {algorithm.optimizers.map((name) => (
                <option key={name} value={name}>
                  {name}
                  {name === defaultOptimizer(algorithm) ? ' (default)' : ''}
                </option>
              ))}
            </select>
          </label>
          <span class="hint" id="optimizer-hint">
            {algorithm.hyperparameters.find((spec) => spec.name === 'optimizer')?.description ??
              'How the weights are fitted.'}
          </span>
          <FieldError field="hyperparameters.optimizer" problems={problems} />
        </div>
        {specs.length === 0 ? (
          <p class="hint">This optimizer has no hyperparameters to set.</p>
        ) : (
          specs.map((spec) => (
            <HyperparameterField
              key={`${algorithm.name}/${optimizer}/${spec.name}`}
              spec={spec}
              value={values[spec.name] ?? ''}
              defaultValue={algorithm.defaults[optimizer]?.[spec.name]}
              problems={problems}
              onChange={(value) => setValues((previous) => ({ ...previous, [spec.name]: value }))}
            />
          ))
        )}
      </fieldset>
      <fieldset>
        <legend>Validation and registration</legend>
        <div class="field">
          <label>
            <span>Validation split</span>
            <input
              type="number"
              min={0}
              max={0.9}
              step="any"
              required
              value={validationSplit}
              {...describedBy('validationSplit', problems, 'split-hint')}
              onInput={(event) => setValidationSplit((event.target as HTMLInputElement).value)}
            />
          </label>
          <span class="hint" id="split-hint">
            The fraction of rows held out to score the model (0 to 0.9; 0 holds out none).
          </span>
          <FieldError field="validationSplit" problems={problems} />
        </div>
        <div class="field">
          <label>
            <span>Seed (optional)</span>
            <input
              type="number"
              min={0}
              max={2147483647}
              step={1}
              value={seed}
              {...describedBy('seed', problems, 'seed-hint')}
              onInput={(event) => setSeed((event.target as HTMLInputElement).value)}
            />
          </label>
          <span class="hint" id="seed-hint">
            Fixes the split and the shuffling, so the same job gives the same model. Empty: a random
            one, recorded on the job.
          </span>
          <FieldError field="seed" problems={problems} />
        </div>
        <div class="field">
          <label>
            <span>Alias (optional)</span>
            <input
              type="text"
              value={alias}
              pattern={NAME_PATTERN}
              {...describedBy('alias', problems, 'alias-hint')}
              onInput={(event) => setAlias((event.target as HTMLInputElement).value)}
            />
          </label>
          <span class="hint" id="alias-hint">
            Points this alias (e.g. <code>staging</code>) at the new version when the job succeeds.
          </span>
          <FieldError field="alias" problems={problems} />
        </div>
      </fieldset>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || features.length === 0}>
          {busy ? 'Starting…' : 'Start training'}
        </button>
        <a href={href('training')}>Back to the jobs</a>
      </div>
    </form>
  );
}

function HyperparameterField({
  spec,
  value,
  defaultValue,
  problems,
  onChange,
}: {
  spec: HyperparameterInfo;
  value: string;
  defaultValue: unknown;
  problems: Map<string, string>;
  onChange: (value: string) => void;
}) {
  const field = `hyperparameters.${spec.name}`;
  const hintId = `hp-${spec.name}-hint`;
  const input = (event: Event) => onChange((event.target as HTMLInputElement).value);
  let control;
  if (spec.type === 'number' || spec.type === 'integer') {
    control = (
      <input
        type="number"
        value={value}
        min={spec.minimum}
        max={spec.maximum}
        step={spec.type === 'integer' ? 1 : 'any'}
        required
        {...describedBy(field, problems, hintId)}
        onInput={input}
      />
    );
  } else {
    // enum, or class-weight: per-class weights are left to the API.
    const choices = spec.values ?? (spec.type === 'class-weight' ? ['none', 'balanced'] : []);
    control = (
      <select value={value} {...describedBy(field, problems, hintId)} onChange={input}>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  }
  return (
    <div class="field">
      <label>
        <span>
          <code>{spec.name}</code>
        </span>
        {control}
      </label>
      <span class="hint" id={hintId}>
        {spec.description} {rangeText(spec)}
        {defaultValue !== undefined && typeof defaultValue !== 'object' && (
          <> Default {String(defaultValue)}.</>
        )}
      </span>
      <FieldError field={field} problems={problems} />
    </div>
  );
}

/** "Range: > 0 to 100 (try 0.001-0.1)." */
function rangeText(spec: HyperparameterInfo): string {
  if (spec.type !== 'number' && spec.type !== 'integer') return '';
  const parts: string[] = [];
  if (spec.minimum !== undefined)
    parts.push(`${spec.exclusiveMinimum ? 'above' : 'from'} ${num(spec.minimum)}`);
  if (spec.maximum !== undefined) parts.push(`up to ${num(spec.maximum)}`);
  const range = parts.length > 0 ? `Range: ${parts.join(' ')}` : '';
  const hint = spec.hint ? `${range ? ' ' : ''}(${spec.hint})` : '';
  return range || hint ? `${range}${hint}.` : '';
}

/** The API's per-field errors by field; `features[2]` also counts as `features`. */
function fieldProblems(error: ApiError | null): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of error?.errors ?? []) {
    const field = item.field.replace(/\[\d+\]$/, '');
    map.set(field, map.has(field) ? `${map.get(field)}; ${item.message}` : item.message);
  }
  return map;
}

function describedBy(field: string, problems: Map<string, string>, hintId?: string) {
  const ids = [hintId, problems.has(field) ? errorId(field) : undefined].filter(Boolean);
  return {
    'aria-describedby': ids.length > 0 ? ids.join(' ') : undefined,
    'aria-invalid': problems.has(field) ? true : undefined,
  };
}

const errorId = (field: string) => `error-${field.replace(/[^A-Za-z0-9-]/g, '-')}`;

function FieldError({ field, problems }: { field: string; problems: Map<string, string> }) {
  const message = problems.get(field);
  if (!message) return null;
  return (
    <span class="field-error" id={errorId(field)}>
      {message}
    </span>
  );
}
