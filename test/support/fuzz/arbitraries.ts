import fc from 'fast-check';

/**
 * The fast-check arbitraries of the fuzz suite (test/fuzz.e2e-spec.ts): request bodies, query
 * strings and raw bytes for each route it fuzzes, from plain wrong types to near misses of a valid
 * request (exactly one thing wrong), so that validation is reached and passed as well as refused.
 * Names prefixed `fuzz-` never collide with the data the suite seeds (dataset and model `line`).
 */

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
// Dataset uploads: JSON (rows or records) and CSV.

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

export const datasetJsonBody = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue() },
  { weight: 3, arbitrary: rowsBody },
  { weight: 3, arbitrary: recordsBody },
  { weight: 2, arbitrary: nearValidDataset },
);
// `?name=` on a JSON upload supplies the name when the body has none.
export const datasetQuery = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fuzzName.map((name) => `?name=${encodeURIComponent(name)}`) },
  { weight: 1, arbitrary: nastyString.map((name) => `?name=${encodeURIComponent(name)}`) },
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
export const csvBody = fc.oneof(
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
export const csvQuery = fc.oneof(
  { weight: 6, arbitrary: fuzzName.map((name) => `?name=${encodeURIComponent(name)}`) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constant('?name=') },
  { weight: 2, arbitrary: nastyString.map((name) => `?name=${encodeURIComponent(name)}`) },
  { weight: 1, arbitrary: fc.constant('?name=fuzz-a&name=fuzz-b') },
  { weight: 1, arbitrary: fc.constant('?name[x]=fuzz-a') },
  { weight: 1, arbitrary: fc.constant('?name=fuzz-a&limit=oops') },
);
export const csvContentType = fc.constantFrom(
  'text/csv',
  'text/csv; charset=utf-8',
  'application/csv',
  'text/csv; header=present',
);
// ---------------------------------------------------------------------------------------------
// Training jobs.

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
function trainingJobNearMiss(datasetId: string): fc.Arbitrary<Record<string, unknown>> {
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
/** Any JSON, any wrong value, and (mostly) near misses of a valid job on `datasetId`. */
export function trainingJobBody(datasetId: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: nastyValue },
    { weight: 5, arbitrary: trainingJobNearMiss(datasetId) },
  );
}

// ---------------------------------------------------------------------------------------------
// Predictions: v1 predict bodies and Open Inference (v2) infer bodies.

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
export const predictBody = fc.oneof(
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
export const inferBody = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 3, arbitrary: nearValidInfer },
  {
    weight: 6,
    arbitrary: withExtraKeys(
      fc.record(
        {
          id: fc.oneof(fc.string({ maxLength: 8 }), nastyValue),
          parameters: fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), nastyValue), nastyValue),
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
export const inferUrl = fc.constantFrom(
  '/v2/models/line/infer',
  '/v2/models/line/infer',
  '/v2/models/line/versions/1/infer',
);
// ---------------------------------------------------------------------------------------------
// Raw bytes sent as application/json.

export const rawBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
  // Valid JSON, cut short or with one character changed.
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', '\\', 'x'))
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
// ---------------------------------------------------------------------------------------------
// Deep nesting (the regressions the suite found).

/** `depth` levels of arrays (or of objects) around `leaf`. */
export function nested(depth: number, kind: 'array' | 'object', leaf = '1'): string {
  return kind === 'array'
    ? '['.repeat(depth) + leaf + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

/** `?version=` and `?alias=` values: numbers JavaScript reads but a version is not, and any text. */
export const versionSelector = fc.oneof(
  fc.constantFrom('Infinity', '1e400', '-Infinity', 'NaN', '1e308', '1.0', '01', '0x1'),
  fc.constantFrom('+1', ' 1', '1 ', '', '1e0', '9007199254740993', '1,2'),
  nastyString,
);
