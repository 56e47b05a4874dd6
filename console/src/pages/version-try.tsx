import { useMemo, useState } from 'preact/hooks';
import { ApiError, apiUrl, authHeaders, failure, seg } from '../api';
import { asApiError, ErrorNote } from '../components/async';
import { num } from '../format';
import type { ColumnProfile, ModelVersion } from '../types';
import type { InferAnswer, PredictAnswer, Tensor } from './version-types';

type Mode = 'v1' | 'v2';

/** Send one example to exactly this version, by the v1 or the V2 (Open Inference) route. */
export function TryIt({ version: v }: { version: ModelVersion }) {
  const examples = useMemo(() => examplesFor(v), [v]);
  const [mode, setMode] = useState<Mode>('v1');
  const [texts, setTexts] = useState<Record<Mode, string>>(examples);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);

  const send = async () => {
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      let body: unknown;
      try {
        body = JSON.parse(texts[mode]);
      } catch (problem) {
        throw new ApiError(
          0,
          'Not JSON',
          `The request is not valid JSON: ${(problem as Error).message}`,
        );
      }
      setAnswer(await predict(v, mode, body));
    } catch (problem) {
      setError(asApiError(problem));
    } finally {
      setBusy(false);
    }
  };

  const path =
    mode === 'v1'
      ? `POST /v1/models/${v.model}/predict?version=${v.version}`
      : `POST /v2/models/${v.model}/versions/${v.version}/infer`;
  return (
    <>
      {v.status === 'archived' && (
        <p class="notice">
          This version is archived: it does not serve, so the service will refuse these requests.
          Restore it (status ready) on the model's page to try it.
        </p>
      )}
      <form class="stack try-it" onSubmit={(event) => event.preventDefault()}>
        <fieldset>
          <legend>Protocol</legend>
          <div class="choices">
            <label class="choice">
              <input
                type="radio"
                name="try-mode"
                checked={mode === 'v1'}
                onChange={() => setMode('v1')}
              />
              <span>v1 instances</span>
            </label>
            <label class="choice">
              <input
                type="radio"
                name="try-mode"
                checked={mode === 'v2'}
                onChange={() => setMode('v2')}
              />
              <span>V2 tensors (Open Inference Protocol)</span>
            </label>
          </div>
        </fieldset>
        <label>
          <span>
            Request body for <code>{path}</code>
          </span>
          <textarea
            rows={Math.min(24, Math.max(6, texts[mode].split('\n').length + 1))}
            spellcheck={false}
            value={texts[mode]}
            onInput={(event) =>
              setTexts({ ...texts, [mode]: (event.target as HTMLTextAreaElement).value })
            }
          />
        </label>
        <p class="hint">
          {mode === 'v1'
            ? 'Each instance is an object of input names to values (or an array in input order); null is a missing value.'
            : 'One tensor per input, shape [rows] (or one [rows, inputs] tensor); data is row-major.'}{' '}
          The example comes from the signature and the reference profile (means, most frequent
          categories).
        </p>
        <div class="actions">
          <button type="button" class="primary" disabled={busy} onClick={send}>
            {busy ? 'Sending…' : 'Send'}
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => setTexts({ ...texts, [mode]: examples[mode] })}
          >
            Reset example
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {answer && <AnswerView answer={answer} />}
    </>
  );
}

type Answer =
  | { mode: 'v1'; header: string | null; body: PredictAnswer }
  | { mode: 'v2'; header: string | null; body: InferAnswer };

async function predict(v: ModelVersion, mode: Mode, body: unknown): Promise<Answer> {
  const url =
    mode === 'v1'
      ? apiUrl(`v1/models/${seg(v.model)}/predict`, { version: v.version })
      : apiUrl(`v2/models/${seg(v.model)}/versions/${v.version}/infer`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify(body),
    });
  } catch (problem) {
    throw new ApiError(
      0,
      'Network error',
      `The service did not answer: ${(problem as Error).message}`,
    );
  }
  if (!response.ok) {
    // V2 errors are the protocol's `{ "error": "…" }`, not problem details.
    if (mode === 'v2' && response.status !== 401) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // Not JSON: show it as it came.
      }
      throw new ApiError(response.status, `${response.status} ${response.statusText}`, message);
    }
    throw await failure(response);
  }
  const header = response.headers.get('x-model-version');
  return mode === 'v1'
    ? { mode, header, body: (await response.json()) as PredictAnswer }
    : { mode, header, body: (await response.json()) as InferAnswer };
}

function AnswerView({ answer }: { answer: Answer }) {
  const bodyVersion = answer.mode === 'v1' ? answer.body.version : answer.body.model_version;
  return (
    <section class="card answer" aria-labelledby="try-answer">
      <h3 id="try-answer">Answer</h3>
      <p role="status">
        Answered by version <strong>{String(bodyVersion)}</strong> (body) —{' '}
        <code>x-model-version: {answer.header ?? 'absent'}</code>
      </p>
      {answer.mode === 'v1' ? <V1Table answer={answer.body} /> : <V2Tables answer={answer.body} />}
      <details>
        <summary>Raw JSON</summary>
        <pre class="json">{JSON.stringify(answer.body, null, 2)}</pre>
      </details>
    </section>
  );
}

function V1Table({ answer }: { answer: PredictAnswer }) {
  const classes = answer.classes ?? [];
  return (
    <table>
      <caption class="visually-hidden">Predictions per instance</caption>
      <thead>
        <tr>
          <th scope="col">Instance</th>
          <th scope="col">Prediction</th>
          {classes.map((label) => (
            <th scope="col" class="number" key={String(label)}>
              P({String(label)})
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {answer.predictions.map((prediction, i) => (
          <tr key={i}>
            <th scope="row">{i + 1}</th>
            <td>
              <strong>{num(prediction)}</strong>
            </td>
            {classes.map((label, c) => (
              <td class="number" key={String(label)}>
                {num(answer.probabilities?.[i]?.[c])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function V2Tables({ answer }: { answer: InferAnswer }) {
  return (
    <table>
      <caption class="visually-hidden">Output tensors</caption>
      <thead>
        <tr>
          <th scope="col">Output</th>
          <th scope="col">Datatype</th>
          <th scope="col">Shape</th>
          <th scope="col">Data</th>
        </tr>
      </thead>
      <tbody>
        {answer.outputs.map((output) => (
          <tr key={output.name}>
            <th scope="row">{output.name}</th>
            <td>{output.datatype}</td>
            <td>
              <code>[{output.shape.join(', ')}]</code>
            </td>
            <td>
              <code>{output.data.map((value) => num(value)).join(', ')}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One example instance and its tensors, from the signature and the reference profile. */
function examplesFor(v: ModelVersion): Record<Mode, string> {
  const profiles = new Map((v.reference?.features ?? []).map((p) => [p.name, p]));
  if (v.format.startsWith('onnx/')) return onnxExamples(v, profiles);
  const instance: Record<string, number | string> = {};
  const inputs: Tensor[] = [];
  for (const field of v.inputSchema) {
    const value = sample(profiles.get(field.name), field.type === 'string');
    instance[field.name] = value;
    inputs.push({
      name: field.name,
      shape: [1],
      datatype: field.type === 'string' ? 'BYTES' : 'FP64',
      data: [value],
    });
  }
  return {
    v1: pretty({ instances: [instance] }),
    v2: pretty({ inputs }),
  };
}

/**
 * An ONNX graph's own tensors: open dimensions become 1. v1 instances are objects keyed by the
 * feature names given at registration, else rows in the input's column order.
 */
function onnxExamples(v: ModelVersion, profiles: Map<string, ColumnProfile>): Record<Mode, string> {
  const features = v.serving?.features;
  const inputs: Tensor[] = v.inputSchema.map((field) => {
    const shape = (field.shape ?? [-1]).map((size) => (size < 0 ? 1 : size));
    const count = shape.reduce((product, size) => product * size, 1);
    const text = field.type === 'BYTES' || field.type === 'STRING';
    const data = Array.from({ length: count }, (_, i) => {
      const feature =
        features && v.inputSchema.length === 1 ? features[i % features.length] : undefined;
      return sample(feature ? profiles.get(feature) : undefined, text);
    });
    return { name: field.name, shape, datatype: field.type, data };
  });
  let instance: unknown;
  if (features) {
    instance = Object.fromEntries(
      features.map((name) => [name, sample(profiles.get(name), false)]),
    );
  } else if (inputs.length === 1) {
    instance = inputs[0].data.slice(0, inputs[0].shape[inputs[0].shape.length - 1] ?? 1);
  } else {
    instance = Object.fromEntries(inputs.map((input) => [input.name, input.data[0]]));
  }
  return {
    v1: pretty({ instances: [instance] }),
    v2: pretty({ inputs }),
  };
}

/** A plausible value: the reference's mean (3 significant digits) or most frequent category. */
function sample(profile: ColumnProfile | undefined, text: boolean): number | string {
  if (profile?.categories) {
    const top = Object.entries(profile.categories)
      .filter(([name]) => name !== '__other__')
      .sort((a, b) => b[1] - a[1])[0];
    if (top) return top[0];
  }
  if (profile?.mean !== undefined) return Number(profile.mean.toPrecision(3));
  return text ? '' : 0;
}

/** Indented JSON with arrays of plain values on one line (a tensor's shape and data read better). */
function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\s*([^[\]{}]*?)\s*\]/g,
    (_, items: string) =>
      // JSON.stringify escapes newlines inside strings, so every raw one here is indentation.
      `[${items.replace(/\n\s*/g, ' ')}]`,
  );
}
