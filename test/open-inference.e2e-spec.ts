import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { housingArtifact, housingInstances, housingReference } from './support/fixtures';
import { expectSchema } from './support/open-inference-spec';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const iris = JSON.parse(fixture('iris.sklearn.json'));
const mixed = JSON.parse(fixture('mixed.sklearn.json'));
/** The first five rows of iris.csv, the rows of scikit-learn's `firstProbabilities`. */
const irisRows = fixture('iris.csv')
  .trim()
  .split('\n')
  .slice(1, 6)
  .map((line) => line.split(',').slice(0, 4).map(Number));

describe('Open Inference Protocol (KServe V2)', () => {
  let dataDir: string;
  let api: TestApp;

  const infer = (url: string, body: unknown) => api.request('POST', url, body);
  const expectError = (res: { status: number; body: any }, status: number, pattern: RegExp) => {
    expect({ status: res.status, error: res.body?.error }).toEqual({
      status,
      error: expect.stringMatching(pattern),
    });
    expect(Object.keys(res.body)).toEqual(['error']);
    expectSchema('inference_error_response', res.body);
  };

  const train = async (request: Record<string, unknown>, csv: string) => {
    const name = request.model as string;
    const dataset = await api.request('POST', `/v1/datasets?name=${name}`, csv, {
      'content-type': 'text/csv',
    });
    const job = await api.request('POST', '/v1/training-jobs', {
      dataset: dataset.body.id,
      validationSplit: 0,
      seed: 3,
      ...request,
    });
    expect((await waitForJob(api, job.body.id)).status).toBe('succeeded');
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    // house-prices v1 = scikit-learn's coefficients, v2 = twice them; production → v1.
    for (const scale of [1, 2]) {
      const res = await api.request('POST', '/v1/models/house-prices/versions', {
        artifact: housingArtifact(scale),
        ...(scale === 1 ? { alias: 'production' } : {}),
      });
      expect(res.status).toBe(201);
    }
    await train(
      { model: 'iris', target: 'species', algorithm: 'logistic-regression' },
      fixture('iris.csv'),
    );
    await train(
      {
        model: 'mixed',
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'normal-equation' },
      },
      fixture('mixed.csv'),
    );
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  describe('server and model endpoints', () => {
    it('answers server metadata, live and ready as the specification has them', async () => {
      const metadata = await api.request('GET', '/v2');
      expect(metadata.status).toBe(200);
      expectSchema('metadata_server_response', metadata.body);
      expect(metadata.body).toEqual({ name: 'modeldock', version: '0.1.0', extensions: [] });
      expect(await api.request('GET', '/v2/health/live')).toMatchObject({
        status: 200,
        body: { live: true },
      });
      expect(await api.request('GET', '/v2/health/ready')).toMatchObject({
        status: 200,
        body: { ready: true },
      });
    });

    it('describes a model: one FP64 tensor per feature with -1 for the batch, its ready versions', async () => {
      const res = await api.request('GET', '/v2/models/house-prices');
      expect(res.status).toBe(200);
      expectSchema('metadata_model_response', res.body);
      expect(res.body).toEqual({
        name: 'house-prices',
        versions: ['1', '2'],
        platform: 'modeldock_v1',
        inputs: housingReference.features.map((name) => ({
          name,
          datatype: 'FP64',
          shape: [-1],
        })),
        outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1] }],
        properties: { version: '1', algorithm: 'linear-regression' },
      });
      const v2 = await api.request('GET', '/v2/models/house-prices/versions/2');
      expectSchema('metadata_model_response', v2.body);
      expect(v2.body.properties.version).toBe('2');
    });

    it('describes a classifier with BYTES labels and a probability column per class', async () => {
      const res = await api.request('GET', '/v2/models/iris');
      expectSchema('metadata_model_response', res.body);
      expect(res.body.outputs).toEqual([
        { name: 'predict', datatype: 'BYTES', shape: [-1] },
        { name: 'predict_proba', datatype: 'FP64', shape: [-1, 3] },
      ]);
      expect(JSON.parse(res.body.properties.classes)).toEqual(iris.classes);
      const strings = await api.request('GET', '/v2/models/mixed');
      expect(strings.body.inputs).toEqual([
        { name: 'size', datatype: 'FP64', shape: [-1] },
        { name: 'color', datatype: 'BYTES', shape: [-1] },
        { name: 'age', datatype: 'FP64', shape: [-1] },
      ]);
    });

    it('reports model readiness with and without a version, and errors for what does not exist', async () => {
      expect(await api.request('GET', '/v2/models/iris/ready')).toMatchObject({
        status: 200,
        body: { name: 'iris', ready: true },
      });
      expect(await api.request('GET', '/v2/models/house-prices/versions/2/ready')).toMatchObject({
        status: 200,
        body: { name: 'house-prices', ready: true },
      });
      expectError(await api.request('GET', '/v2/models/nope/ready'), 404, /nope does not exist/);
      expectError(await api.request('GET', '/v2/models/nope'), 404, /nope does not exist/);
      expectError(
        await api.request('GET', '/v2/models/house-prices/versions/7'),
        404,
        /no version 7/,
      );
      expectError(
        await api.request('GET', '/v2/models/house-prices/versions/v1'),
        400,
        /not a version number/,
      );
    });
  });

  describe('inference', () => {
    it("takes the KServe docs' request (input-0, nested FP32 rows) and answers like scikit-learn", async () => {
      // As in KServe's "sklearn iris" V2 example: one [batch, features] tensor, nested rows.
      const res = await infer('/v2/models/iris/infer', {
        inputs: [
          {
            name: 'input-0',
            shape: [2, 4],
            datatype: 'FP32',
            data: [
              [6.8, 2.8, 4.8, 1.4],
              [6.0, 3.4, 4.5, 1.6],
            ],
          },
        ],
      });
      expect(res.status).toBe(200);
      expectSchema('inference_response', res.body);
      expect(res.body).toMatchObject({ model_name: 'iris', model_version: '1' });
      expect(res.body.outputs.map((o: { name: string }) => o.name)).toEqual([
        'predict',
        'predict_proba',
      ]);
      expect(res.body.outputs[0]).toEqual({
        name: 'predict',
        datatype: 'BYTES',
        shape: [2],
        data: ['versicolor', 'versicolor'],
      });
      expect(res.body.outputs[1]).toMatchObject({ datatype: 'FP64', shape: [2, 3] });

      const first = await infer('/v2/models/iris/versions/1/infer', {
        inputs: [{ name: 'input-0', shape: [5, 4], datatype: 'FP64', data: irisRows.flat() }],
        outputs: [{ name: 'predict_proba' }],
      });
      expect(first.status).toBe(200);
      expect(first.body.outputs).toHaveLength(1);
      const probabilities: number[] = first.body.outputs[0].data;
      iris.firstProbabilities
        .flat()
        .forEach((p: number, i: number) => expect(probabilities[i]).toBeCloseTo(p, 2));
      // The same predictor as v1, so the very same numbers.
      const v1 = await api.request('POST', '/v1/models/iris/predict', { instances: irisRows });
      expect(probabilities).toEqual(v1.body.probabilities.flat());
    });

    it("takes Triton's flat row-major data with a version in the path, echoing id and parameters", async () => {
      const rows = housingInstances().slice(0, 3);
      const res = await infer('/v2/models/house-prices/versions/1/infer', {
        id: '42',
        parameters: { trace: 'abc', sample: 3, debug: false },
        inputs: [{ name: 'input-0', shape: [3, 3], datatype: 'FP64', data: rows.flat() }],
        outputs: [{ name: 'predict' }],
      });
      expect(res.status).toBe(200);
      expectSchema('inference_response', res.body);
      expect(res.body).toMatchObject({
        model_name: 'house-prices',
        model_version: '1',
        id: '42',
        parameters: { trace: 'abc', sample: 3, debug: false },
      });
      expect(res.body.outputs[0]).toMatchObject({ name: 'predict', datatype: 'FP64', shape: [3] });
      res.body.outputs[0].data.forEach((p: number, i: number) =>
        expect(p).toBeCloseTo(housingReference.predictions[i], 6),
      );
      const v2 = await infer('/v2/models/house-prices/versions/2/infer', {
        inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: rows[0] }],
      });
      expect(v2.body.model_version).toBe('2');
      expect(v2.body.outputs[0].data[0]).toBeCloseTo(2 * housingReference.predictions[0], 6);
    });

    it('takes one tensor per feature in any order, with integer, FP32 and [N, 1] shapes', async () => {
      const rows = housingInstances().slice(0, 4);
      const column = (j: number) => rows.map((row) => row[j]);
      const res = await infer('/v2/models/house-prices/infer', {
        inputs: [
          { name: 'age_years', shape: [4, 1], datatype: 'INT32', data: column(2).map((v) => [v]) },
          { name: 'area_m2', shape: [4], datatype: 'FP32', data: column(0) },
          { name: 'rooms', shape: [4], datatype: 'INT64', data: column(1) },
        ],
      });
      expect(res.status).toBe(200);
      expectSchema('inference_response', res.body);
      res.body.outputs[0].data.forEach((p: number, i: number) =>
        expect(p).toBeCloseTo(housingReference.predictions[i], 6),
      );
    });

    it('takes BYTES tensors for string features and null as missing, like the scikit-learn pipeline', async () => {
      const { size, color, age } = mixed.query;
      const n = size.length;
      const res = await infer('/v2/models/mixed/infer', {
        inputs: [
          { name: 'size', shape: [n], datatype: 'FP64', data: size },
          { name: 'color', shape: [n], datatype: 'BYTES', data: color },
          { name: 'age', shape: [n, 1], datatype: 'FP32', data: age },
        ],
      });
      expect(res.status).toBe(200);
      expectSchema('inference_response', res.body);
      res.body.outputs[0].data.forEach((p: number, i: number) =>
        expect(p).toBeCloseTo(mixed.queryPredictions[i], 6),
      );
    });

    it('takes BOOL as 1/0 for a number feature', async () => {
      const [asBool, asNumber] = await Promise.all(
        [
          { datatype: 'BOOL', data: [true, false] },
          { datatype: 'FP64', data: [1, 0] },
        ].map(({ datatype, data }) =>
          infer('/v2/models/house-prices/infer', {
            inputs: [
              { name: 'area_m2', shape: [2], datatype: 'FP64', data: [80, 80] },
              { name: 'rooms', shape: [2], datatype, data },
              { name: 'age_years', shape: [2], datatype: 'FP64', data: [5, 5] },
            ],
          }),
        ),
      );
      expect(asBool.status).toBe(200);
      expect(asBool.body.outputs).toEqual(asNumber.body.outputs);
    });
  });

  describe('bad requests get a 4xx { error } that says what to fix', () => {
    const url = '/v2/models/house-prices/infer';
    const rowsTensor = (shape: number[], data: unknown[], datatype = 'FP64') => ({
      inputs: [{ name: 'input-0', shape, datatype, data }],
    });

    it.each([
      [
        'a row tensor of the wrong width',
        rowsTensor([1, 2], [1, 2]),
        /shape \[1, 2\]; this version takes \[N, 3\]/,
      ],
      ['a 1-D row tensor', rowsTensor([3], [1, 2, 3]), /takes \[N, 3\]/],
      ['an empty batch', rowsTensor([0, 3], []), /takes \[N, 3\]/],
      [
        'data that does not fill the shape',
        rowsTensor([2, 3], [1, 2, 3]),
        /has 3 elements but its shape \[2, 3\] holds 6/,
      ],
      [
        'a string in an FP64 tensor',
        rowsTensor([1, 3], [1, 'four', 3]),
        /inputs\[0\]\.data\[1\]: row 0, rooms: must be a finite number for FP64; got the string "four"/,
      ],
      [
        'a fraction in an INT32 tensor',
        rowsTensor([1, 3], [1, 2.5, 3], 'INT32'),
        /rooms: must be an integer in \[-2147483648, 2147483647\] for INT32; got 2\.5/,
      ],
      [
        'a value out of range for INT8',
        rowsTensor([1, 3], [1, 300, 3], 'INT8'),
        /must be an integer in \[-128, 127\] for INT8; got 300/,
      ],
      [
        'a number in a BOOL tensor',
        rowsTensor([1, 3], [1, 2, 3], 'BOOL'),
        /must be a boolean for BOOL; got 1/,
      ],
      [
        'BYTES for number features',
        rowsTensor([1, 3], ['1', '2', '3'], 'BYTES'),
        /must be a finite number; got the string "1" \(send number features as FP64/,
      ],
      [
        'an unknown datatype',
        rowsTensor([1, 3], [1, 2, 3], 'FP128'),
        /datatype: must be equal to one of the allowed values/,
      ],
      [
        'a missing shape',
        { inputs: [{ name: 'input-0', datatype: 'FP64', data: [1, 2, 3] }] },
        /inputs\[0\]\.shape: must have required property 'shape'/,
      ],
      ['no inputs', { inputs: [] }, /body\.inputs: must NOT have fewer than 1 items/],
      [
        'a missing value for a model without imputation',
        rowsTensor([1, 3], [1, null, 3]),
        /rooms: is missing; this version has no imputation/,
      ],
    ])('refuses %s', async (_what, body, pattern) => {
      expectError(await infer(url, body), 400, pattern);
    });

    it('refuses feature tensors that are unknown, missing, duplicated or of unequal batch sizes', async () => {
      const feature = (name: string, n = 1) => ({
        name,
        shape: [n],
        datatype: 'FP64',
        data: Array(n).fill(1),
      });
      const all = ['area_m2', 'rooms', 'age_years'];
      expectError(
        await infer(url, { inputs: [...all.map((n) => feature(n)), feature('colour')] }),
        400,
        /Input colour is not a feature of this version/,
      );
      expectError(
        await infer(url, { inputs: [feature('area_m2'), feature('rooms')] }),
        400,
        /Inputs missing for feature\(s\) age_years/,
      );
      expectError(
        await infer(url, { inputs: [...all.map((n) => feature(n)), feature('rooms')] }),
        400,
        /Input rooms is given twice/,
      );
      expectError(
        await infer(url, {
          inputs: [feature('area_m2', 2), feature('rooms'), feature('age_years')],
        }),
        400,
        /Input rooms has 1 rows but area_m2 has 2/,
      );
    });

    it('refuses inputs whose arithmetic overflows with 422 naming the rows, never a null prediction', async () => {
      // house-prices is a regressor imported as modeldock/v1; iris a softmax classifier trained here.
      expectError(
        await infer(url, rowsTensor([3, 3], [1, 2, 3, 1e308, 1e308, 1e308, 4, 5, 6])),
        422,
        /^row 1 of the inputs: no finite prediction.*overflows/,
      );
      const iris = await infer('/v2/models/iris/infer', {
        inputs: [
          {
            name: 'input-0',
            shape: [2, 4],
            datatype: 'FP64',
            data: [5.1, 3.5, 1.4, 0.2, 1e308, -1e308, 1e308, -1e308],
          },
        ],
      });
      expectError(iris, 422, /^row 1 of the inputs: no finite prediction/);
    });

    it('refuses an unknown output, model or version, and malformed or non-JSON bodies', async () => {
      const body = rowsTensor([1, 3], [1, 2, 3]);
      expectError(
        await infer(url, { ...body, outputs: [{ name: 'predict_proba' }] }),
        400,
        /no output predict_proba; it returns predict/,
      );
      expectError(await infer('/v2/models/nope/infer', body), 404, /nope does not exist/);
      expectError(
        await infer('/v2/models/house-prices/versions/9/infer', body),
        404,
        /no version 9/,
      );
      expectError(
        await infer('/v2/models/house-prices/versions/v1/infer', body),
        400,
        /params\.version: must match pattern/,
      );
      expectError(
        await api.request('POST', url, '{"inputs": [', { 'content-type': 'application/json' }),
        400,
        /not valid JSON/,
      );
      expectError(
        await api.request('POST', url, '<inputs/>', { 'content-type': 'application/xml' }),
        415,
        /Unsupported Media Type|application\/json/i,
      );
    });
  });
});
