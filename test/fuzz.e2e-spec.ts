import fc from 'fast-check';
import { lineDataset } from './support/fixtures';
import {
  HttpResult,
  makeDataDir,
  removeDataDir,
  startApp,
  TestApp,
  waitForJob,
} from './support/test-app';

/**
 * Property-based fuzzing (fast-check) of the dataset upload, training-job and prediction bodies:
 * thousands of generated bad inputs, none answered with a 5xx, every error in the documented shape
 * (problem+json on /v1, `{ "error" }` on /v2) without a stack trace or SQL in it, the service
 * healthy afterwards and the stored data it started with unchanged.
 *
 * Deterministic: every property runs with a fixed seed. On a failure fast-check reports the
 * (shrunk) counterexample and the seed/path that replays it; the error names the request and
 * the response.
 */

const SEED = 20261124;
const JSON_HEADERS = { 'content-type': 'application/json' };
const STACK_TRACE = /at .*\.(ts|js):\d+/;
const SQL = /SQLITE|SELECT |INSERT /i;
const PROBLEM_CONTENT_TYPE = /^application\/problem\+json/;
const V2_CONTENT_TYPE = /^application\/json/;

// Runs per property, chosen so the file makes well over 3000 requests yet stays fast.
const RUNS = {
  datasetJson: 900,
  datasetCsv: 600,
  trainingJob: 900,
  predictV1: 700,
  inferV2: 700,
  rawBodies: 600,
  regressions: 60,
};
const PROPERTY_TIMEOUT_MS = 120_000;

// The seeded model's fixed questions: the same answers before and after the fuzzing.
const FIXED_INSTANCES = [
  [2, 1],
  [0, 0],
  [6, 4],
  [-3.5, 1e6],
];
const FIXED_TENSORS = {
  inputs: [{ name: 'input-0', shape: [2, 2], datatype: 'FP64', data: [2, 1, 0.25, -7] }],
};

interface Sent extends HttpResult {
  method: string;
  url: string;
  sent: unknown;
}

type Protocol = 'v1' | 'v2';

describe('fuzzing the request bodies', () => {
  let dataDir: string;
  let api: TestApp;
  let datasetId: string;
  let before: Snapshot;
  let requests = 0;
  const statuses = new Map<number, number>();
  const createdDatasets: string[] = [];
  const acceptedJobs: string[] = [];

  async function send(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Sent> {
    requests++;
    const res = await api.request(method, url, body, headers);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    return { ...res, method, url, sent: body };
  }

  /** Sends `value` serialised as JSON, whatever it is (a bare string or number included). */
  const sendJson = (url: string, value: unknown, query = '') =>
    send('POST', url + query, JSON.stringify(value), JSON_HEADERS);

  function fail(res: Sent, why: string): never {
    const sent = typeof res.sent === 'string' ? res.sent : String(res.sent);
    throw new Error(
      `${why}\n  ${res.method} ${res.url}\n  body: ${sent.slice(0, 600)}\n` +
        `  → ${res.status} ${res.headers.get('content-type')}\n  ${res.text.slice(0, 600)}`,
    );
  }

  /**
   * The one rule every fuzzed request obeys: no 5xx; an error is a 4xx in the protocol's error
   * shape (problem details on /v1, the Open Inference `{ "error" }` on /v2) that leaks no stack
   * trace or SQL; a success only with the route's success status.
   */
  function expectHandled(res: Sent, protocol: Protocol, success: number): void {
    if (res.status >= 500) fail(res, `answered ${res.status}`);
    if (res.status === 401 || res.status === 403) {
      fail(res, 'the admin key was refused: the fuzz requests never reached validation');
    }
    if (res.status < 400) {
      if (res.status !== success) fail(res, `expected ${success} or a 4xx`);
      return;
    }
    if (res.status === 429) return; // counted; the final test says whether rate limits interfered
    if (STACK_TRACE.test(res.text)) fail(res, 'the error shows a stack trace');
    if (SQL.test(res.text)) fail(res, 'the error shows SQL');
    const contentType = res.headers.get('content-type') ?? '';
    const body = res.body;
    if (protocol === 'v1') {
      if (!PROBLEM_CONTENT_TYPE.test(contentType)) fail(res, 'the error is not problem+json');
      if (
        typeof body !== 'object' ||
        body === null ||
        typeof body.type !== 'string' ||
        typeof body.title !== 'string' ||
        body.status !== res.status ||
        typeof body.detail !== 'string' ||
        body.detail.length === 0
      ) {
        fail(res, 'the error lacks type/title/status/detail');
      }
      if (body.errors !== undefined && !Array.isArray(body.errors)) {
        fail(res, 'errors is not a list');
      }
    } else {
      if (!V2_CONTENT_TYPE.test(contentType)) fail(res, 'the /v2 error is not JSON');
      if (
        typeof body !== 'object' ||
        body === null ||
        typeof body.error !== 'string' ||
        body.error.length === 0 ||
        Object.keys(body).length !== 1
      ) {
        fail(res, 'the /v2 error is not { "error": string }');
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Stored state: what the fuzzing must leave exactly as it was.

  interface Snapshot {
    datasets: any;
    dataset: any;
    rows: any;
    models: any;
    model: any;
    versions: any;
    version: any;
    artifact: string;
    events: any;
    jobsTotal: number;
    lineJobs: any;
    prediction: any;
    inference: any;
  }

  async function snapshot(): Promise<Snapshot> {
    const get = async (url: string) => {
      const res = await send('GET', url);
      if (res.status !== 200) fail(res, 'snapshot read failed');
      return res;
    };
    const prediction = await sendJson('/v1/models/line/predict', { instances: FIXED_INSTANCES });
    const inference = await sendJson('/v2/models/line/infer', FIXED_TENSORS);
    if (prediction.status !== 200) fail(prediction, 'the fixed prediction failed');
    if (inference.status !== 200) fail(inference, 'the fixed inference failed');
    return {
      datasets: (await get('/v1/datasets?limit=500')).body,
      dataset: (await get(`/v1/datasets/${datasetId}`)).body,
      rows: (await get(`/v1/datasets/${datasetId}/rows?limit=500`)).body,
      models: (await get('/v1/models?limit=500')).body,
      model: (await get('/v1/models/line')).body,
      versions: (await get('/v1/models/line/versions')).body,
      version: (await get('/v1/models/line/versions/1')).body,
      artifact: (await get('/v1/models/line/versions/1/artifact')).text,
      events: (await get('/v1/models/line/events?limit=500')).body,
      jobsTotal: (await get('/v1/training-jobs?limit=1')).body.total,
      lineJobs: (await get('/v1/training-jobs?model=line')).body,
      prediction: { version: prediction.headers.get('x-model-version'), body: prediction.body },
      inference: inference.body,
    };
  }

  beforeAll(async () => {
    dataDir = makeDataDir();
    // Thousands of requests a minute from one key: raise the per-key limits far above that, so
    // every request reaches validation (the final test checks that none was rate-limited).
    api = await startApp(dataDir, {
      RATE_LIMIT_MANAGEMENT_PER_MINUTE: '1000000',
      RATE_LIMIT_PREDICT_PER_MINUTE: '1000000',
    });
    const dataset = await send('POST', '/v1/datasets', lineDataset());
    if (dataset.status !== 201) fail(dataset, 'seeding the dataset failed');
    datasetId = dataset.body.id;
    const job = await send('POST', '/v1/training-jobs', {
      model: 'line',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0,
    });
    if (job.status !== 202) fail(job, 'seeding the model failed');
    expect((await waitForJob(api, job.body.id)).status).toBe('succeeded');
    before = await snapshot();
  }, PROPERTY_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  // ---------------------------------------------------------------------------------------------
  // Building blocks.

  /** Strings that tend to break parsers, validators and SQL. */
  const nastyString = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '\t',
        '\u0000',
        '\ufeff',
        'NaN',
        'Infinity',
        '-Infinity',
        '1e999',
        '0x10',
        '1,5',
        'null',
        'true',
        'undefined',
        'constructor',
        'toString',
        'hasOwnProperty',
        'prototype',
        'line',
        'x1',
        'x2',
        'y',
        '../etc/passwd',
        '%2e%2e%2f',
        "'; DROP TABLE datasets; --",
        '" OR 1=1 --',
        '${7*7}',
        '<script>alert(1)</script>',
        '🚀',
        'é',
        'x'.repeat(129),
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }).map((n) => 'x'.repeat(n * 500)) },
  );

  /** JSON numbers at and beyond the edges (JSON has no NaN or Infinity). */
  const nastyNumber = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(
      0,
      -0,
      -1,
      0.5,
      1.5,
      1e21,
      1e308,
      -1e308,
      5e-324,
      2 ** 31,
      2 ** 53,
      2 ** 53 + 2,
      Number.MAX_SAFE_INTEGER,
    ),
  );

  /** Any JSON value, small: the wrong type for whatever field it lands in. */
  const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 3, arbitrary: nastyString },
    { weight: 3, arbitrary: nastyNumber },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom([], {}, [[]], [null], [{}]) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.array(nastyNumber, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 1 })) },
  );

  /** A valid name (prefixed `fuzz-`, so it never collides with the seeded data), or a bad one. */
  const fuzzName = fc.stringMatching(/^fuzz-[A-Za-z0-9._-]{0,20}$/);
  const nameField = fc.oneof(
    { weight: 4, arbitrary: fuzzName },
    { weight: 1, arbitrary: fc.constantFrom('-fuzz', '.fuzz', 'fuzz name', 'fuzz/x', 'fuzz%00') },
    { weight: 1, arbitrary: fc.constant('fuzz-' + 'x'.repeat(124)) },
    { weight: 3, arbitrary: nastyValue },
  );

  /** Adds 0-2 unknown keys to an object body now and then. */
  function withExtraKeys<T extends object>(arb: fc.Arbitrary<T>): fc.Arbitrary<T> {
    const extra = fc.option(
      fc.dictionary(
        fc.oneof(nastyString, fc.constantFrom('id', 'extra', 'Name', '__proto__', 'constructor')),
        nastyValue,
        {
          minKeys: 1,
          maxKeys: 2,
        },
      ),
      { nil: undefined, freq: 4 },
    );
    return fc.tuple(arb, extra).map(([body, more]) => (more ? { ...more, ...body } : body));
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Dataset uploads.

  const columnName = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom('x1', 'x2', 'y', 'a', 'b', 'A', 'x1 ', ' x1', '1', '0', 'é'),
    },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', 'constructor', 'toString', 'length') },
    { weight: 1, arbitrary: fc.constant('c'.repeat(129)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  );
  const cell = fc.oneof(
    { weight: 6, arbitrary: nastyNumber },
    { weight: 2, arbitrary: fc.constantFrom(null, '', 'NaN', 'Infinity', '1', '2.5', 'n/a') },
    { weight: 2, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constantFrom([], [1], {}, { v: 1 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );

  /** Now and then (one body in `freq`) drops one of `keys` from the generated object. */
  function dropSometimes(
    arb: fc.Arbitrary<Record<string, unknown>>,
    keys: string[],
    freq = 5,
  ): fc.Arbitrary<Record<string, unknown>> {
    return fc
      .tuple(arb, fc.option(fc.constantFrom(...keys), { nil: undefined, freq }))
      .map(([body, dropped]) => {
        if (dropped === undefined) return body;
        const copy = { ...body };
        delete copy[dropped];
        return copy;
      });
  }

  const rowsBody = dropSometimes(
    withExtraKeys(
      fc
        .tuple(
          fc.record({
            name: nameField,
            columns: fc.oneof(
              { weight: 4, arbitrary: fc.array(columnName, { maxLength: 5 }) },
              { weight: 1, arbitrary: fc.array(nastyValue, { maxLength: 3 }) },
              { weight: 1, arbitrary: nastyValue },
            ),
            rows: fc.oneof(
              {
                weight: 4,
                arbitrary: fc.array(fc.array(cell, { maxLength: 5 }), { maxLength: 6 }),
              },
              { weight: 1, arbitrary: fc.array(nastyValue, { maxLength: 4 }) },
              { weight: 1, arbitrary: nastyValue },
            ),
          }),
          // Both shapes at once, now and then.
          fc.option(fc.array(fc.dictionary(columnName, cell, { maxKeys: 3 }), { maxLength: 3 }), {
            nil: undefined,
            freq: 8,
          }),
        )
        .map(([body, records]) => (records ? { ...body, records } : body)),
    ),
    ['name', 'columns', 'rows'],
  );

  const recordsBody = dropSometimes(
    withExtraKeys(
      fc.record({
        name: nameField,
        records: fc.oneof(
          // Keys drawn from a small pool: records that disagree about their keys are common.
          {
            weight: 5,
            arbitrary: fc.array(fc.dictionary(columnName, cell, { maxKeys: 4 }), { maxLength: 6 }),
          },
          { weight: 1, arbitrary: fc.array(nastyValue, { maxLength: 4 }) },
          { weight: 1, arbitrary: nastyValue },
        ),
      }),
    ),
    ['name', 'records'],
  );

  /** A valid table with exactly one thing wrong, or nothing: the near misses. */
  const nearValidDataset = fc
    .record({
      name: fuzzName,
      width: fc.integer({ min: 1, max: 4 }),
      height: fc.integer({ min: 1, max: 5 }),
      flaw: fc.constantFrom(
        'none',
        'duplicate-column',
        'ragged-row',
        'bad-cell',
        'empty-column',
        'empty-rows',
        'bad-name',
        'records-missing-key',
        'records-extra-key',
        'too-many-columns',
      ),
      badCell: cell,
      asRecords: fc.boolean(),
    })
    .map(({ name, width, height, flaw, badCell, asRecords }) => {
      // The limit is 1000 columns.
      const columnCount = flaw === 'too-many-columns' ? 1001 : width;
      const columns = Array.from({ length: columnCount }, (_, j) => `c${j}`);
      const rows: unknown[][] = Array.from({ length: height }, (_, i) =>
        columns.map((_c, j) => i * columnCount + j),
      );
      if (flaw === 'duplicate-column' && width > 1) columns[columnCount - 1] = columns[0];
      if (flaw === 'ragged-row') rows[height - 1] = rows[height - 1].slice(1);
      if (flaw === 'bad-cell') rows[0][0] = badCell;
      if (flaw === 'empty-column') rows.forEach((row) => (row[0] = null));
      const body: Record<string, unknown> = { name: flaw === 'bad-name' ? `-${name}` : name };
      if (asRecords || flaw.startsWith('records')) {
        const records = rows.map((row) =>
          Object.fromEntries(columns.map((c, j) => [c, row[j] ?? null])),
        );
        if (flaw === 'records-missing-key') delete records[records.length - 1].c0;
        if (flaw === 'records-extra-key') records[records.length - 1].extra = 1;
        body.records = flaw === 'empty-rows' ? [] : records;
      } else {
        body.columns = columns;
        body.rows = flaw === 'empty-rows' ? [] : rows;
      }
      return body;
    });

  const datasetJsonBody = fc.oneof(
    { weight: 2, arbitrary: fc.jsonValue() },
    { weight: 3, arbitrary: rowsBody },
    { weight: 3, arbitrary: recordsBody },
    { weight: 2, arbitrary: nearValidDataset },
  );
  // `?name=` on a JSON upload supplies the name when the body has none.
  const datasetQuery = fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fuzzName.map((name) => `?name=${encodeURIComponent(name)}`) },
    { weight: 1, arbitrary: nastyString.map((name) => `?name=${encodeURIComponent(name)}`) },
  );

  function expectDatasetAnswer(res: Sent): void {
    expectHandled(res, 'v1', 201);
    if (res.status === 201) {
      createdDatasets.push(res.body.id);
      if (res.headers.get('location') !== `/v1/datasets/${res.body.id}`) {
        fail(res, 'a created dataset has no Location');
      }
      if (!(res.body.rowCount >= 1) || !Array.isArray(res.body.columns)) {
        fail(res, 'a created dataset has no rows or columns');
      }
    }
  }

  it(
    'answers every JSON dataset upload, valid or not, without a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(datasetJsonBody, datasetQuery, async (body, query) => {
          expectDatasetAnswer(await sendJson('/v1/datasets', body, query));
        }),
        { numRuns: RUNS.datasetJson, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  const csvToken = fc.constantFrom(
    ',',
    ',',
    ',',
    '\n',
    '\n',
    '\r\n',
    '\r',
    '"',
    '""',
    ' ',
    '\t',
    ';',
    "'",
    'a',
    'b',
    'x1',
    'y',
    '1',
    '2',
    '-2.5',
    '1e3',
    '.5',
    '0x1f',
    'NaN',
    'Infinity',
    'é',
    '日本',
    '🚀',
    '\ufeff',
    '\u0000',
    '\\',
  );
  const csvFromTokens = fc.array(csvToken, { maxLength: 80 }).map((tokens) => tokens.join(''));
  /** Header then rows, cells from `csvToken`s: mostly well-formed, often ragged or odd. */
  const csvTable = fc
    .tuple(
      fc.array(columnName, { minLength: 1, maxLength: 4 }),
      fc.array(fc.array(fc.oneof(nastyNumber.map(String), csvFromTokens), { maxLength: 4 }), {
        maxLength: 6,
      }),
      fc.constantFrom('\n', '\r\n', '\r'),
    )
    .map(([header, rows, eol]) => [header, ...rows].map((row) => row.join(',')).join(eol));
  const csvBody = fc.oneof(
    { weight: 3, arbitrary: csvFromTokens },
    { weight: 3, arbitrary: csvTable },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 999, max: 1002 }).map((width) => {
        const row = (f: (j: number) => string) => Array.from({ length: width }, (_, j) => f(j));
        return `${row((j) => `c${j}`).join(',')}\n${row(String).join(',')}\n`;
      }),
    },
  );
  const csvQuery = fc.oneof(
    { weight: 6, arbitrary: fuzzName.map((name) => `?name=${encodeURIComponent(name)}`) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constant('?name=') },
    { weight: 2, arbitrary: nastyString.map((name) => `?name=${encodeURIComponent(name)}`) },
    { weight: 1, arbitrary: fc.constant('?name=fuzz-a&name=fuzz-b') },
    { weight: 1, arbitrary: fc.constant('?name[x]=fuzz-a') },
    { weight: 1, arbitrary: fc.constant('?name=fuzz-a&limit=oops') },
  );
  const csvContentType = fc.constantFrom(
    'text/csv',
    'text/csv; charset=utf-8',
    'application/csv',
    'text/csv; header=present',
  );

  it(
    'answers every CSV dataset upload, valid or not, without a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(csvBody, csvQuery, csvContentType, async (csv, query, contentType) => {
          expectDatasetAnswer(
            await send('POST', `/v1/datasets${query}`, csv, { 'content-type': contentType }),
          );
        }),
        { numRuns: RUNS.datasetCsv, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  // ---------------------------------------------------------------------------------------------
  // 2. Training jobs.

  const KEEP = Symbol('keep');
  const DROP = Symbol('drop');

  /** Small valid hyperparameter values (so accepted jobs finish quickly) and bad ones. */
  const hyperparameters = fc.record(
    {
      optimizer: fc.oneof(
        fc.constantFrom('normal-equation', 'gradient-descent', 'sgd', 'adam', 'lbfgs'),
        fc.constantFrom('Normal-Equation', 'newton', ''),
        nastyValue,
      ),
      learningRate: fc.oneof(fc.constantFrom(0.01, 0.1, 0, -1, 100, 100.001, 1e-300), nastyValue),
      epochs: fc.oneof(fc.constantFrom(1, 5, 20, 0, -1, 1.5, 1_000_001, 1e300), nastyValue),
      maxEpochs: fc.oneof(fc.constantFrom(3, 0), nastyValue),
      batchSize: fc.oneof(fc.constantFrom(1, 8, 0, 1_000_001), nastyValue),
      l2: fc.oneof(fc.constantFrom(0, 1, -0.1, 1e12, 1e13), nastyValue),
      tolerance: fc.oneof(fc.constantFrom(0, 0.5, 1, 1.01, -0.1), nastyValue),
      patience: fc.oneof(fc.constantFrom(0, 3, -1, 2.5), nastyValue),
      classWeight: fc.oneof(
        fc.constantFrom('none', 'balanced', { a: 1 }, { a: -1 }, { a: '1' }),
        nastyValue,
      ),
      momentum: nastyValue,
    },
    { requiredKeys: [] },
  );

  /**
   * Each field of a valid job kept (mostly), dropped, or replaced by a wrong value. `model` never
   * becomes `line` (the seeded model), so an accepted near miss cannot touch it.
   */
  function trainingJobNearMiss(): fc.Arbitrary<Record<string, unknown>> {
    const base: Record<string, unknown> = {
      model: 'fuzz-job',
      dataset: datasetId,
      target: 'y',
      features: ['x1', 'x2'],
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0,
      seed: 7,
      alias: 'fuzz-alias',
      description: 'fuzzed',
      tags: { origin: 'fuzz' },
    };
    const wrong: Record<string, fc.Arbitrary<unknown>> = {
      model: fc.oneof(nameField, fc.constantFrom('Line', 'line ', ' line')),
      dataset: fc.oneof(
        fc.uuid(),
        fc.constantFrom(
          datasetId.toUpperCase(),
          `${datasetId} `,
          `{${datasetId}}`,
          datasetId.replace(/-/g, ''),
          datasetId.slice(0, -1),
          '00000000-0000-0000-0000-000000000000',
        ),
        nastyValue,
      ),
      target: fc.oneof(fc.constantFrom('x1', 'x2', 'Y', 'y ', '', 'price', 'x1,x2'), nastyValue),
      features: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom('x1', 'x2', 'y', 'x3', '', 'X1'), nastyValue), {
          maxLength: 4,
        }),
        fc.constantFrom('x1', 'x1,x2', [], ['x1', 'x1'], [['x1']]),
        nastyValue,
      ),
      algorithm: fc.oneof(
        fc.constantFrom(
          'ridge-regression',
          'logistic-regression',
          'Linear-Regression',
          'random-forest',
          'linear_regression',
          '',
        ),
        nastyValue,
      ),
      hyperparameters: fc.oneof({ weight: 3, arbitrary: hyperparameters }, nastyValue),
      validationSplit: fc.oneof(
        fc.double({ min: -1, max: 2, noNaN: true }),
        fc.constantFrom(0.9, 0.9000001, 0.95, -0.0001, 1, '0.2'),
        nastyValue,
      ),
      seed: fc.oneof(fc.constantFrom(-1, 0, 2147483647, 2147483648, 1.5, 1e20, '42'), nastyValue),
      alias: fc.oneof(nameField, fc.constantFrom('production', 'staging')),
      description: fc.oneof(fc.constant('d'.repeat(10_001)), nastyValue),
      tags: fc.oneof(
        fc.dictionary(nastyString, fc.oneof(nastyString, nastyValue), { maxKeys: 3 }),
        nastyValue,
      ),
    };
    const fields = Object.fromEntries(
      Object.keys(base).map((key) => [
        key,
        fc.oneof(
          { weight: 14, arbitrary: fc.constant(KEEP) },
          { weight: 1, arbitrary: fc.constant(DROP) },
          { weight: 2, arbitrary: wrong[key] },
        ),
      ]),
    ) as Record<string, fc.Arbitrary<unknown>>;
    return withExtraKeys(
      fc.record(fields).map((choices) => {
        const job: Record<string, unknown> = {};
        for (const [key, choice] of Object.entries(choices)) {
          if (choice === KEEP) job[key] = base[key];
          else if (choice !== DROP) job[key] = choice;
        }
        // The seeded model must stay as it is: a near miss never trains `line`.
        if (job.model === 'line') job.model = 'fuzz-job';
        return job;
      }),
    );
  }

  it(
    'answers every training-job body, valid or not, without a 5xx',
    async () => {
      const body = fc.oneof(
        { weight: 1, arbitrary: fc.jsonValue() },
        { weight: 1, arbitrary: nastyValue },
        { weight: 5, arbitrary: trainingJobNearMiss() },
      );
      await fc.assert(
        fc.asyncProperty(body, async (job) => {
          const res = await sendJson('/v1/training-jobs', job);
          expectHandled(res, 'v1', 202);
          if (res.status === 202) {
            if (res.body.model === 'line') fail(res, 'a fuzzed job trains the seeded model');
            if (res.headers.get('location') !== `/v1/training-jobs/${res.body.id}`) {
              fail(res, 'an accepted job has no Location');
            }
            acceptedJobs.push(res.body.id);
          }
        }),
        { numRuns: RUNS.trainingJob, seed: SEED },
      );
      // Accepted near misses run to the end (succeed or fail, but never hang or crash a worker).
      for (const id of acceptedJobs) {
        const job = await waitForJob(api, id, 60_000);
        expect(['succeeded', 'failed']).toContain(job.status);
      }
    },
    PROPERTY_TIMEOUT_MS,
  );

  // ---------------------------------------------------------------------------------------------
  // 3. Predictions: POST /v1/models/line/predict and the Open Inference POST /v2/models/line/infer.

  const featureValue = fc.oneof(
    { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 2, arbitrary: fc.integer() },
    {
      weight: 2,
      arbitrary: fc.constantFrom(null, '', '1', 'NaN', 'Infinity', true, false, 1e308, -1e308),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
    { weight: 1, arbitrary: fc.array(fc.integer(), { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const featureKey = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('x1', 'x2') },
    {
      weight: 2,
      arbitrary: fc.constantFrom('y', 'x3', 'X1', 'x1 ', '', '0', 'length', 'toString'),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
  );
  const instance = fc.oneof(
    { weight: 4, arbitrary: fc.array(featureValue, { maxLength: 4 }) },
    { weight: 3, arbitrary: fc.dictionary(featureKey, featureValue, { maxKeys: 4 }) },
    { weight: 1, arbitrary: nastyValue },
  );
  const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });
  /** Valid rows (arrays or objects), half the time with one row replaced by a fuzzed instance. */
  const nearValidInstances = fc
    .tuple(
      fc.array(fc.tuple(finite, finite), { minLength: 1, maxLength: 5 }),
      fc.option(fc.tuple(fc.nat(), instance), { freq: 2, nil: undefined }),
      fc.boolean(),
    )
    .map(([rows, flaw, asObjects]) => {
      const instances: unknown[] = rows.map(([x1, x2]) => (asObjects ? { x1, x2 } : [x1, x2]));
      if (flaw) instances[flaw[0] % instances.length] = flaw[1];
      return { instances };
    });
  const predictBody = fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 3, arbitrary: nearValidInstances },
    {
      weight: 6,
      arbitrary: withExtraKeys(
        fc.record({
          instances: fc.oneof(
            { weight: 6, arbitrary: fc.array(instance, { maxLength: 6 }) },
            { weight: 1, arbitrary: nastyValue },
          ),
        }),
      ),
    },
    { weight: 1, arbitrary: fc.record({ rows: fc.array(instance, { maxLength: 3 }) }) },
  );

  /** y = 1 + 2·x1 − 3·x2 exactly, so a 200 for plain numeric rows can be checked. */
  function expectLinePredictions(res: Sent, instances: unknown[]): void {
    const { predictions } = res.body;
    if (!Array.isArray(predictions) || predictions.length !== instances.length) {
      fail(res, 'not one prediction per instance');
    }
    instances.forEach((row, i) => {
      if (!Array.isArray(row) || !row.every((v) => typeof v === 'number' && Math.abs(v) < 1e12)) {
        return;
      }
      const expected = 1 + 2 * row[0] - 3 * row[1];
      if (!(Math.abs(predictions[i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)))) {
        fail(res, `instance ${i} predicted ${predictions[i]}, expected ${expected}`);
      }
    });
  }

  it(
    'answers every v1 predict body without a 5xx, errors as problem+json',
    async () => {
      await fc.assert(
        fc.asyncProperty(predictBody, async (body) => {
          const res = await sendJson('/v1/models/line/predict', body);
          expectHandled(res, 'v1', 200);
          if (res.status === 200) {
            if (res.headers.get('x-model-version') !== '1') fail(res, 'no X-Model-Version: 1');
            expectLinePredictions(res, (body as { instances: unknown[] }).instances);
          }
        }),
        { numRuns: RUNS.predictV1, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  const DATATYPES = [
    'BOOL',
    'INT8',
    'INT16',
    'INT32',
    'INT64',
    'UINT8',
    'UINT16',
    'UINT32',
    'UINT64',
    'FP16',
    'FP32',
    'FP64',
    'BYTES',
  ];
  const tensorName = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('input-0', 'x1', 'x2') },
    { weight: 1, arbitrary: fc.constantFrom('y', 'x3', '', 'predict') },
    { weight: 1, arbitrary: nastyValue },
  );
  const shape = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(
        fc.oneof(
          fc.integer({ min: -2, max: 5 }),
          fc.constantFrom(0, 1.5, -0, 100_001, 2 ** 31, 2 ** 53, 1e300),
        ),
        { maxLength: 4 },
      ),
    },
    { weight: 1, arbitrary: nastyValue },
  );
  const datatype = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...DATATYPES) },
    { weight: 1, arbitrary: fc.constantFrom('fp64', 'FP128', 'STRING', 'FLOAT', '') },
    { weight: 1, arbitrary: nastyValue },
  );
  const tensorData = fc.oneof(
    { weight: 3, arbitrary: fc.array(featureValue, { maxLength: 8 }) },
    {
      weight: 2,
      arbitrary: fc.array(fc.array(featureValue, { maxLength: 3 }), { maxLength: 4 }),
    },
    { weight: 1, arbitrary: nastyValue },
  );
  const anyTensor = fc.record(
    {
      name: tensorName,
      shape,
      datatype,
      data: tensorData,
      parameters: fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), nastyValue), nastyValue),
    },
    { requiredKeys: [] },
  );
  /** A tensor whose shape matches its data: gets past the shape checks to the values. */
  const consistentTensor = fc
    .record({
      name: tensorName,
      rows: fc.integer({ min: 0, max: 4 }),
      width: fc.integer({ min: 1, max: 3 }),
      datatype,
      values: fc.array(featureValue, { minLength: 12, maxLength: 12 }),
      nested: fc.boolean(),
      perFeature: fc.boolean(),
    })
    .map(({ name, rows, width, datatype: type, values, nested, perFeature }) => {
      const cols = perFeature ? 1 : width;
      const flat = values.slice(0, rows * cols);
      const data = nested
        ? Array.from({ length: rows }, (_, i) => flat.slice(i * cols, (i + 1) * cols))
        : flat;
      return { name, shape: perFeature ? [rows] : [rows, cols], datatype: type, data };
    });
  const tensor = fc.oneof(
    { weight: 2, arbitrary: anyTensor },
    { weight: 3, arbitrary: consistentTensor },
  );
  /**
   * A valid request (rows as `input-0` [N, 2], or one [N] tensor per feature) with at most one
   * thing wrong: a value, the datatype, the shape, a name, or the data nested once too often.
   */
  const nearValidInfer = fc
    .record({
      values: fc.array(finite, { minLength: 2, maxLength: 10 }),
      perFeature: fc.boolean(),
      flaw: fc.constantFrom('none', 'none', 'value', 'datatype', 'shape', 'name', 'nesting'),
      at: fc.nat(),
      badValue: featureValue,
      badDatatype: datatype,
      badShape: shape,
      badName: tensorName,
    })
    .map(({ values, perFeature, flaw, at, badValue, badDatatype, badShape, badName }) => {
      const rows = Math.floor(values.length / 2);
      const inputs: Record<string, unknown>[] = perFeature
        ? ['x1', 'x2'].map((name, j) => ({
            name,
            shape: [rows],
            datatype: 'FP64',
            data: values.slice(j * rows, (j + 1) * rows),
          }))
        : [
            {
              name: 'input-0',
              shape: [rows, 2],
              datatype: 'FP64',
              data: values.slice(0, rows * 2),
            },
          ];
      const target = inputs[at % inputs.length];
      const data = target.data as unknown[];
      if (flaw === 'value') data[at % data.length] = badValue;
      if (flaw === 'datatype') target.datatype = badDatatype;
      if (flaw === 'shape') target.shape = badShape;
      if (flaw === 'name') target.name = badName;
      if (flaw === 'nesting') target.data = data.map((v) => [[v]]);
      return { inputs };
    });
  const inferBody = fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 3, arbitrary: nearValidInfer },
    {
      weight: 6,
      arbitrary: withExtraKeys(
        fc.record(
          {
            id: fc.oneof(fc.string({ maxLength: 8 }), nastyValue),
            parameters: fc.oneof(
              fc.dictionary(fc.string({ maxLength: 4 }), nastyValue),
              nastyValue,
            ),
            inputs: fc.oneof(
              { weight: 6, arbitrary: fc.array(tensor, { maxLength: 3 }) },
              { weight: 1, arbitrary: nastyValue },
            ),
            outputs: fc.oneof(
              fc.array(
                fc.record(
                  {
                    name: fc.oneof(fc.constantFrom('predict', 'predict_proba', 'x1'), nastyValue),
                    parameters: nastyValue,
                  },
                  { requiredKeys: ['name'] },
                ),
                { maxLength: 2 },
              ),
              nastyValue,
            ),
          },
          { requiredKeys: ['inputs'] },
        ),
      ),
    },
  );
  const inferUrl = fc.constantFrom(
    '/v2/models/line/infer',
    '/v2/models/line/infer',
    '/v2/models/line/versions/1/infer',
  );

  it(
    'answers every Open Inference (v2) infer body without a 5xx, errors as { error }',
    async () => {
      await fc.assert(
        fc.asyncProperty(inferUrl, inferBody, async (url, body) => {
          const res = await sendJson(url, body);
          expectHandled(res, 'v2', 200);
          if (res.status === 200) {
            if (res.body.model_name !== 'line' || res.body.model_version !== '1') {
              fail(res, 'answered by the wrong model or version');
            }
            if (!Array.isArray(res.body.outputs) || res.body.outputs.length === 0) {
              fail(res, 'no output tensors');
            }
          }
        }),
        { numRuns: RUNS.inferV2, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  // ---------------------------------------------------------------------------------------------
  // 4. Raw bytes sent as application/json: malformed JSON is a 400, never a 5xx.

  const JSON_ROUTES: { url: string; protocol: Protocol; success: number }[] = [
    { url: '/v1/datasets', protocol: 'v1', success: 201 },
    { url: '/v1/training-jobs', protocol: 'v1', success: 202 },
    { url: '/v1/models/line/predict', protocol: 'v1', success: 200 },
    { url: '/v2/models/line/infer', protocol: 'v2', success: 200 },
  ];

  /** What the server's parser (secure-json-parse: a leading BOM is skipped) makes of the bytes. */
  function isJson(text: string): boolean {
    try {
      JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      return true;
    } catch {
      return false;
    }
  }

  const rawBody: fc.Arbitrary<string | Buffer> = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
    // Valid JSON, cut short or with one character changed.
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.json({ maxDepth: 3 }),
          fc.nat(),
          fc.constantFrom('', ',', '}', ']', '"', '\\', 'x'),
        )
        .map(([json, at, insert]) => {
          const cut = at % (json.length + 1);
          return json.slice(0, cut) + insert + json.slice(cut + (insert ? 1 : 0));
        }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '{',
        '[',
        '{"instances":',
        '{"inputs":[{]}',
        'nul',
        'NaN',
        'Infinity',
        '-',
        '01',
        '1e',
        '"\\x"',
        '"\\ud800"',
        "{'name':'x'}",
        '{"a":1,}',
        '[1,]',
        '{"a" 1}',
        '\ufeff',
        '\ufeff\ufeff{}',
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
      ),
    },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.from(bytes)) },
  );

  it(
    'answers raw bytes sent as application/json with a 400 unless they are JSON, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...JSON_ROUTES),
          rawBody,
          fc.constantFrom('application/json', 'application/json; charset=utf-8'),
          async (route, raw, contentType) => {
            const res = await send('POST', route.url, raw, { 'content-type': contentType });
            expectHandled(res, route.protocol, route.success);
            const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
            if (!isJson(text) && res.status !== 400) fail(res, 'malformed JSON is not a 400');
            if (res.status === 201) createdDatasets.push(res.body.id);
            if (res.status === 202) acceptedJobs.push(res.body.id);
          },
        ),
        { numRuns: RUNS.rawBodies, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  // ---------------------------------------------------------------------------------------------
  // Known bugs found by this suite: these assert the correct behaviour and fail until fixed.

  /** `depth` levels of arrays (or of objects) around `leaf`. */
  function nested(depth: number, kind: 'array' | 'object', leaf = '1'): string {
    return kind === 'array'
      ? '['.repeat(depth) + leaf + ']'.repeat(depth)
      : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  }

  it(
    // Found by this suite: deeply nested JSON in a class-validated body was a 500 (class-transformer
    // and ValidationPipe.stripProtoKeys recurse per level and overflow the stack from ~1,300
    // levels). The strict JSON parser now refuses nesting beyond MAX_JSON_DEPTH with a 400.
    'answers deeply nested training-job and model bodies without a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 20_000 }),
          fc.constantFrom('array', 'object') as fc.Arbitrary<'array' | 'object'>,
          fc.constantFrom('hyperparameters', 'tags', 'unknown', 'top-level', 'models'),
          async (depth, kind, where) => {
            const deep = nested(depth, kind);
            const job = `"model":"fuzz-deep","dataset":"${datasetId}","target":"y","algorithm":"linear-regression"`;
            const [url, body] =
              where === 'models'
                ? ['/v1/models', `{"name":"fuzz-deep","tags":${deep}}`]
                : where === 'top-level'
                  ? ['/v1/training-jobs', deep]
                  : where === 'unknown'
                    ? ['/v1/training-jobs', `{${job},"zzz":${deep}}`]
                    : ['/v1/training-jobs', `{${job},"${where}":{"a":${deep}}}`];
            const res = await send('POST', url, body, JSON_HEADERS);
            expectHandled(res, 'v1', url === '/v1/models' ? 201 : 202);
            if (res.status === 202) acceptedJobs.push(res.body.id);
          },
        ),
        { numRuns: RUNS.regressions, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    // Found by this suite: deeply nested V2 tensor `data` was a 500 (data.flat(Infinity) in
    // decodeInputs overflowed the stack from ~6,100 levels); now a 400 { "error" } at parse time.
    'answers deeply nested v2 tensor data without a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 50_000 }),
          fc.boolean(),
          async (depth, perFeature) => {
            const data = nested(depth, 'array');
            const body = perFeature
              ? `{"inputs":[{"name":"x1","shape":[1],"datatype":"FP64","data":[${data}]},` +
                `{"name":"x2","shape":[1],"datatype":"FP64","data":[1]}]}`
              : `{"inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP64","data":[${data}]}]}`;
            expectHandled(
              await send('POST', '/v2/models/line/infer', body, JSON_HEADERS),
              'v2',
              200,
            );
          },
        ),
        { numRuns: RUNS.regressions, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    // Found by this suite: ?version=Infinity (or 1e400) was a 500: the querystring schema coerced
    // it to the number Infinity and the SQL lookup failed. Now a 400 problem+json.
    'answers fuzzed ?version= and ?alias= on predict without a 5xx',
    async () => {
      const selector = fc.oneof(
        fc.constantFrom('Infinity', '1e400', '-Infinity', 'NaN', '1e308', '1.0', '01', '0x1'),
        fc.constantFrom('+1', ' 1', '1 ', '', '1e0', '9007199254740993', '1,2'),
        nastyString,
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('version', 'alias'), selector, async (key, value) => {
          const query = `?${key}=${encodeURIComponent(value)}`;
          const res = await sendJson('/v1/models/line/predict', { instances: [[1, 2]] }, query);
          expectHandled(res, 'v1', 200);
        }),
        { numRuns: RUNS.regressions, seed: SEED },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  // ---------------------------------------------------------------------------------------------
  // Afterwards.

  it(
    'is healthy afterwards, with the stored data it started with unchanged',
    async () => {
      for (const id of acceptedJobs) await waitForJob(api, id, 60_000);
      const ready = await send('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect((await send('GET', '/health/live')).status).toBe(200);

      // Datasets the fuzzing created go again; what is left is exactly what was there before.
      for (const id of createdDatasets) {
        const res = await send('DELETE', `/v1/datasets/${id}`);
        if (res.status !== 204) fail(res, 'deleting a fuzz-created dataset failed');
      }
      const after = await snapshot();
      expect(after.datasets).toEqual(before.datasets);
      expect(after.dataset).toEqual(before.dataset);
      expect(after.rows).toEqual(before.rows);

      // The seeded model, its version, aliases, artifact, history and answers.
      expect(after.model).toEqual(before.model);
      expect(after.versions).toEqual(before.versions);
      expect(after.version).toEqual(before.version);
      expect(after.artifact).toBe(before.artifact);
      expect(after.events).toEqual(before.events);
      expect(after.prediction).toEqual(before.prediction);
      expect(after.inference).toEqual(before.inference);
      // Models that existed before are as they were; fuzzed jobs only add models of their own.
      const byName = new Map(after.models.items.map((m: any) => [m.name, m]));
      for (const model of before.models.items) expect(byName.get(model.name)).toEqual(model);
      // The only new jobs are the fuzzed ones that were accepted, none of them for `line`.
      expect(after.jobsTotal).toBe(before.jobsTotal + acceptedJobs.length);
      expect(after.lineJobs).toEqual(before.lineJobs);

      // Fuzzing that a rate limiter answered would prove nothing; and thousands of requests ran.
      expect({ rateLimited: statuses.get(429) ?? 0 }).toEqual({ rateLimited: 0 });
      expect(requests).toBeGreaterThanOrEqual(3000);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
