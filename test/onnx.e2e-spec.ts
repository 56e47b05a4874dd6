import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { housingArtifact, housingInstances, housingReference } from './support/fixtures';
import { DataSource } from 'typeorm';
import { OBJECT_STORAGE, ObjectStorage } from '../src/storage/object-storage';
import { expectSchema } from './support/open-inference-spec';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const ONNX_DIR = path.join(__dirname, 'fixtures', 'onnx');
const onnxFile = (name: string) => readFileSync(path.join(ONNX_DIR, name));

interface ReferenceTensor {
  datatype: string;
  shape: number[];
  data: unknown[];
}
interface Reference {
  inputs: Record<string, ReferenceTensor>;
  outputs: Record<string, ReferenceTensor>;
  tolerance: number;
}
/** Inputs and expected outputs of each fixture (numpy / scikit-learn: scripts/fixtures). */
const REFERENCE = JSON.parse(readFileSync(path.join(ONNX_DIR, 'reference.json'), 'utf8')) as Record<
  string,
  Reference & Record<string, unknown>
>;

/** Fixtures whose reference is a plain request → response. */
const TABULAR = ['mlp', 'multi_io', 'types', 'fixed_batch', 'linear', 'gbr', 'gbc'];

const octetStream = { 'content-type': 'application/octet-stream' };

function expectClose(actual: unknown[], expected: unknown[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((value, i) => {
    if (typeof value === 'number' && tolerance > 0) {
      expect(Math.abs((actual[i] as number) - value)).toBeLessThanOrEqual(
        tolerance * Math.max(1, Math.abs(value)),
      );
    } else {
      expect(actual[i]).toEqual(value);
    }
  });
}

/** A request's inputs from a reference, in the protocol's JSON form. */
function jsonInputs(reference: Reference) {
  return Object.entries(reference.inputs).map(([name, tensor]) => ({ name, ...tensor }));
}

/** The binary tensor data extension, as Triton's clients build a request. */
function binaryRequest(
  header: Record<string, unknown>,
  parts: Buffer[],
): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...parts]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.length),
    },
  };
}

/** A binary response: its JSON header, and each binary output's bytes by name. */
function readBinaryResponse(body: Buffer, headerLength: number) {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  const parts: Record<string, Buffer> = {};
  let offset = headerLength;
  for (const output of header.outputs) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    parts[output.name] = body.subarray(offset, offset + size);
    offset += size;
  }
  expect(offset).toBe(body.length);
  return { header, parts };
}

function float32s(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer);
}

describe('ONNX models', () => {
  let dataDir: string;
  let api: TestApp;

  const register = (model: string, file: string, query = '') =>
    api.request('POST', `/v1/models/${model}/versions${query}`, onnxFile(file), octetStream);
  const infer = (url: string, body: unknown) => api.request('POST', url, body);
  const rawPost = async (url: string, body: Buffer, headers: Record<string, string>) => {
    const response = await fetch(api.baseUrl + url, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey()}`, ...headers },
      body,
    });
    return response;
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    for (const name of TABULAR) {
      expect((await register(name, `${name}.onnx`)).status).toBe(201);
    }
  });

  afterAll(async () => {
    await api.close();
    removeDataDir(dataDir);
  });

  describe('registering', () => {
    it('registers an .onnx file posted as application/octet-stream, with its signature from the graph', async () => {
      const res = await api.request('GET', '/v1/models/multi_io/versions/1');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        version: 1,
        algorithm: 'onnx',
        format: 'onnx/ir8',
        inputSchema: [
          { name: 'a', type: 'FP32', shape: [-1, 2] },
          { name: 'b', type: 'FP64', shape: [-1, 2] },
        ],
        outputSchema: [
          { name: 'sum', type: 'FP32', shape: [-1, 2] },
          { name: 'norm', type: 'FP32', shape: [-1] },
        ],
        sizeBytes: onnxFile('multi_io.onnx').length,
        checksum: createHash('sha256').update(onnxFile('multi_io.onnx')).digest('hex'),
      });
      const download = await api.request('GET', '/v1/models/multi_io/versions/1/artifact');
      expect(download.headers.get('content-type')).toBe('application/octet-stream');
      expect(download.headers.get('content-disposition')).toContain('multi_io-v1.onnx');
      expect(download.headers.get('etag')).toBe(`"${res.body.checksum}"`);
    });

    it('registers a multipart form file part, with alias and description from the query', async () => {
      const form = new FormData();
      form.append('file', new Blob([onnxFile('linear.onnx')]), 'linear.onnx');
      const response = await fetch(
        `${api.baseUrl}/v1/models/linear-form/versions?alias=staging&description=from%20a%20form`,
        { method: 'POST', headers: { authorization: `Bearer ${adminKey()}` }, body: form },
      );
      expect(response.status).toBe(201);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ version: 1, aliases: ['staging'], description: 'from a form' });
    });

    it('describes the graph in V2 model metadata, -1 for open dimensions', async () => {
      const res = await api.request('GET', '/v2/models/types');
      expect(res.status).toBe(200);
      expectSchema('metadata_model_response', res.body);
      expect(res.body).toMatchObject({
        name: 'types',
        platform: 'onnxruntime_onnx',
        inputs: [
          { name: 'ids', datatype: 'INT64', shape: [-1] },
          { name: 'flags', datatype: 'BOOL', shape: [-1] },
          { name: 'words', datatype: 'BYTES', shape: [-1] },
          { name: 'small', datatype: 'INT8', shape: [-1] },
          { name: 'counts', datatype: 'UINT16', shape: [-1] },
        ],
      });
      expect(res.body.outputs.map((output: { datatype: string }) => output.datatype)).toEqual([
        'INT64',
        'BOOL',
        'BYTES',
        'INT8',
        'UINT16',
        'FP16',
      ]);
    });
  });

  describe('serving over V2', () => {
    it.each(TABULAR)('answers %s.onnx with its reference outputs', async (name) => {
      const reference = REFERENCE[`${name}.onnx`];
      const res = await infer(`/v2/models/${name}/infer`, {
        id: 'r1',
        inputs: jsonInputs(reference),
      });
      expect(res.status).toBe(200);
      expectSchema('inference_response', res.body);
      expect(res.body).toMatchObject({ model_name: name, model_version: '1', id: 'r1' });
      const byName = Object.fromEntries(
        res.body.outputs.map((output: ReferenceTensor & { name: string }) => [output.name, output]),
      );
      for (const [outputName, expected] of Object.entries(reference.outputs)) {
        expect(byName[outputName]).toMatchObject({
          datatype: expected.datatype,
          shape: expected.shape,
        });
        expectClose(byName[outputName].data, expected.data, reference.tolerance);
      }
    });

    it('returns only the outputs asked for, in the order asked', async () => {
      const reference = REFERENCE['multi_io.onnx'];
      const res = await infer('/v2/models/multi_io/infer', {
        inputs: jsonInputs(reference),
        outputs: [{ name: 'norm' }],
      });
      expect(res.status).toBe(200);
      expect(res.body.outputs.map((output: { name: string }) => output.name)).toEqual(['norm']);
    });
  });

  describe('the binary tensor data extension', () => {
    it('runs the face detector on a photo sent as binary FP32 and returns boxes and scores as binary', async () => {
      expect((await register('faces', 'fr_detect.onnx')).status).toBe(201);
      const reference = REFERENCE['fr_detect.onnx'] as unknown as {
        outputs_top5: { anchor_indices: number[]; scores_class1: number[]; boxes: number[][] };
      };
      const input = Buffer.from(faceDetectorInput().buffer);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [1, 3, 240, 320],
              parameters: { binary_data_size: input.length },
            },
          ],
          outputs: [
            { name: 'scores', parameters: { binary_data: true } },
            { name: 'boxes', parameters: { binary_data: true } },
          ],
        },
        [input],
      );
      const response = await rawPost('/v2/models/faces/infer', body, headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      const headerLength = Number(response.headers.get('inference-header-content-length'));
      const { header, parts } = readBinaryResponse(
        Buffer.from(await response.arrayBuffer()),
        headerLength,
      );
      expect(header.outputs).toEqual([
        {
          name: 'scores',
          datatype: 'FP32',
          shape: [1, 4420, 2],
          parameters: { binary_data_size: 4420 * 2 * 4 },
        },
        {
          name: 'boxes',
          datatype: 'FP32',
          shape: [1, 4420, 4],
          parameters: { binary_data_size: 4420 * 4 * 4 },
        },
      ]);
      const scores = float32s(parts.scores);
      const boxes = float32s(parts.boxes);
      const metrics = await api.request('GET', '/metrics');
      const loadedBytes = /^modeldock_loaded_model_bytes (\d+)$/m.exec(metrics.text);
      expect(Number(loadedBytes?.[1])).toBeGreaterThanOrEqual(onnxFile('fr_detect.onnx').length);
      const faces = Array.from({ length: 4420 }, (_, anchor) => anchor)
        .sort((a, b) => scores[b * 2 + 1] - scores[a * 2 + 1])
        .slice(0, 5);
      expect(faces).toEqual(reference.outputs_top5.anchor_indices);
      faces.forEach((anchor, i) => {
        expect(scores[anchor * 2 + 1]).toBeCloseTo(reference.outputs_top5.scores_class1[i], 4);
        expectClose(
          Array.from(boxes.subarray(anchor * 4, anchor * 4 + 4)),
          reference.outputs_top5.boxes[i],
          1e-4,
        );
      });
    });

    it('takes binary inputs without a Content-Type, as Triton clients send them, and answers JSON unless asked', async () => {
      const x = Buffer.from(Float32Array.from([0.1, -0.2, 0.3, 0.4]).buffer);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
          ],
        },
        [x],
      );
      const response = await rawPost('/v2/models/mlp/infer', body, {
        'inference-header-content-length': headers['inference-header-content-length'],
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { outputs: { data: number[] }[] };
      expectClose(
        answer.outputs[0].data,
        REFERENCE['mlp.onnx'].outputs.probabilities.data.slice(0, 3),
        1e-5,
      );
    });

    it('carries BYTES, BOOL and INT64 both ways', async () => {
      const words = ['hello', 'naïve café'];
      const bytesPart = Buffer.concat(
        words.flatMap((word) => {
          const utf8 = Buffer.from(word);
          const length = Buffer.alloc(4);
          length.writeUInt32LE(utf8.length);
          return [length, utf8];
        }),
      );
      const ids = Buffer.from(BigInt64Array.from([2n ** 60n, -7n]).buffer);
      const flags = Buffer.from([1, 0]);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            { name: 'ids', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
            { name: 'flags', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } },
            {
              name: 'words',
              datatype: 'BYTES',
              shape: [2],
              parameters: { binary_data_size: bytesPart.length },
            },
            { name: 'small', datatype: 'INT8', shape: [2], data: [1, -1] },
            { name: 'counts', datatype: 'UINT16', shape: [2], data: [7, 9] },
          ],
          parameters: { binary_data_output: true },
          outputs: [
            { name: 'ids_plus_one' },
            { name: 'not_flags' },
            { name: 'words_out' },
            { name: 'small_out', parameters: { binary_data: false } },
          ],
        },
        [ids, flags, bytesPart],
      );
      const response = await rawPost('/v2/models/types/infer', body, headers);
      expect(response.status).toBe(200);
      const { header, parts } = readBinaryResponse(
        Buffer.from(await response.arrayBuffer()),
        Number(response.headers.get('inference-header-content-length')),
      );
      // 2^60 + 1 survives exactly only in binary: JSON numbers stop at 2^53.
      expect(Array.from(new BigInt64Array(new Uint8Array(parts.ids_plus_one).buffer))).toEqual([
        2n ** 60n + 1n,
        -6n,
      ]);
      expect(Array.from(parts.not_flags)).toEqual([0, 1]);
      expect(parts.words_out).toEqual(bytesPart);
      expect(header.outputs[3]).toEqual({
        name: 'small_out',
        datatype: 'INT8',
        shape: [2],
        data: [1, -1],
      });
    });

    it('serves versions trained here with binary tensors too', async () => {
      expect(
        (await api.request('POST', '/v1/models/house/versions', { artifact: housingArtifact(1) }))
          .status,
      ).toBe(201);
      const rows = housingInstances().slice(0, 2);
      const json = await infer('/v2/models/house/infer', {
        inputs: [{ name: 'input-0', datatype: 'FP64', shape: [2, 3], data: rows }],
      });
      const input = Buffer.from(Float64Array.from(rows.flat()).buffer);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            {
              name: 'input-0',
              datatype: 'FP64',
              shape: [2, 3],
              parameters: { binary_data_size: 48 },
            },
          ],
          outputs: [{ name: 'predict', parameters: { binary_data: true } }],
        },
        [input],
      );
      const response = await rawPost('/v2/models/house/infer', body, headers);
      expect(response.status).toBe(200);
      const { header, parts } = readBinaryResponse(
        Buffer.from(await response.arrayBuffer()),
        Number(response.headers.get('inference-header-content-length')),
      );
      expect(header.outputs[0]).toMatchObject({ name: 'predict', datatype: 'FP64', shape: [2] });
      const predictions = new Float64Array(new Uint8Array(parts.predict).buffer);
      expect(Array.from(predictions)).toEqual(json.body.outputs[0].data);
      expectClose(Array.from(predictions), housingReference.predictions.slice(0, 2), 1e-9);
    });

    it('refuses binary sizes that do not add up, naming what was declared and what came', async () => {
      const { body, headers } = binaryRequest(
        {
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
          ],
        },
        [Buffer.alloc(12)],
      );
      const response = await rawPost('/v2/models/mlp/infer', body, headers);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(
        /declare 16 bytes.*12 bytes/,
      );
    });
  });

  describe('serving tabular ONNX models over v1', () => {
    it('predicts rows (arrays, or objects keyed by the feature names given at upload)', async () => {
      expect((await register('linear-named', 'linear.onnx', '?features=a,b,c')).status).toBe(201);
      const res = await api.request('POST', '/v1/models/linear-named/predict', {
        instances: [[1, 2, 3], { a: 0, b: 0, c: 0 }, [-1, 0.5, 4]],
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-model-version')).toBe('1');
      expectClose(res.body.predictions, [-0.75, 0.25, -0.25], 1e-6);
    });

    it('answers a gradient-boosted classifier with labels, probabilities and classes, as scikit-learn does', async () => {
      expect(
        (await register('iris-gbc', 'gbc.onnx', '?classes=setosa,versicolor,virginica')).status,
      ).toBe(201);
      const reference = REFERENCE['gbc.onnx'];
      const rows = reference.inputs.input.data as number[];
      const instances = Array.from({ length: 5 }, (_, i) => rows.slice(i * 4, i * 4 + 4));
      const res = await api.request('POST', '/v1/models/iris-gbc/predict', { instances });
      expect(res.status).toBe(200);
      // scikit-learn's labels 0, 1, 2 are the columns the classes name.
      expect(res.body.predictions).toEqual(
        (reference.outputs.label.data as number[]).map(
          (label) => ['setosa', 'versicolor', 'virginica'][label],
        ),
      );
      expect(res.body.classes).toEqual(['setosa', 'versicolor', 'virginica']);
      expectClose(res.body.probabilities.flat(), reference.outputs.probabilities.data, 1e-5);
    });

    it('answers a regressor with one number per row', async () => {
      const reference = REFERENCE['gbr.onnx'];
      const rows = reference.inputs.input.data as number[];
      const count = reference.inputs.input.shape[0];
      const instances = Array.from({ length: count }, (_, i) => rows.slice(i * 10, i * 10 + 10));
      const res = await api.request('POST', '/v1/models/gbr/predict', { instances });
      expect(res.status).toBe(200);
      expectClose(res.body.predictions, reference.outputs.variable.data, reference.tolerance);
    });

    it('sends graphs that are not one [N, features] input to V2, saying so', async () => {
      const res = await api.request('POST', '/v1/models/multi_io/predict', { instances: [[1, 2]] });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/v2\/models\/multi_io\/versions\/1\/infer/);
    });

    it('refuses a bad row, naming the instance', async () => {
      const res = await api.request('POST', '/v1/models/linear/predict', {
        instances: [
          [1, 2, 3],
          [1, 'x', 3],
        ],
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('instances[1][1]');
    });
  });

  describe('bad models', () => {
    const cases: [string, number, RegExp][] = [
      ['not_onnx.onnx', 400, /not an ONNX model/],
      ['truncated.onnx', 400, /cut short|not an ONNX model/],
      ['ir_too_new.onnx', 422, /IR version is 99.*up to 13/],
      ['opset_too_new.onnx', 422, /opset 99 of ai\.onnx.*up to 26/],
      ['unknown_op.onnx', 422, /operator com\.example:NoSuchOp|NoSuchOp/],
      ['no_inputs.onnx', 400, /no inputs/],
    ];

    it.each(cases)(
      'refuses %s with %i, registers nothing and leaves nothing behind',
      async (file, status, detail) => {
        const model = `bad-${file.replace(/[^a-z]/g, '')}`;
        const res = await register(model, `bad/${file}`);
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(res.body.detail).toMatch(detail);
        expect((await api.request('GET', `/v1/models/${model}`)).status).toBe(404);
        expect(readdirSync(path.join(dataDir, 'uploads'))).toEqual([]);
      },
    );

    it('refuses an upload over MODEL_BODY_LIMIT_BYTES with 413 and keeps no part of it', async () => {
      const small = await startApp(makeDataDir(), { MODEL_BODY_LIMIT_BYTES: '100000' });
      try {
        const res = await small.request(
          'POST',
          '/v1/models/big/versions',
          onnxFile('fr_detect.onnx'),
          octetStream,
        );
        expect(res.status).toBe(413);
        expect(res.body.detail).toMatch(/MODEL_BODY_LIMIT_BYTES/);
        expect(readdirSync(path.join(small.dataDir, 'uploads'))).toEqual([]);
        expect((await small.request('GET', '/v1/models/big')).status).toBe(404);
      } finally {
        await small.close();
        removeDataDir(small.dataDir);
      }
    });

    it('refuses batching for a graph with a fixed first dimension', async () => {
      const res = await register('fixed-batched', 'fixed_batch.onnx', '?maxBatchSize=8');
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/first dimension/);
    });

    it('refuses ONNX options on a JSON artifact', async () => {
      const res = await api.request('POST', '/v1/models/json-model/versions?maxBatchSize=4', {
        format: 'modeldock/v1',
      });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/ONNX models only/);
    });
  });

  describe('bad tensors', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'an unknown input',
        { name: 'y', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] },
        /Input y is not an input.*x \(FP32 \[-1, 4\]\)/,
      ],
      [
        'a wrong datatype',
        { name: 'x', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] },
        /Input x is FP64; the model takes FP32 \[-1, 4\]/,
      ],
      [
        'a wrong shape',
        { name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] },
        /Input x has shape \[2, 2\]; the model takes \[-1, 4\]/,
      ],
      [
        'a wrong element count',
        { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3] },
        /x.*3.*4/,
      ],
      [
        'a value of the wrong type',
        { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 'three', 4] },
        /data\[2\]/,
      ],
    ];
    it.each(cases)(
      'answers %s with a 400 { error } naming the input',
      async (_, input, pattern) => {
        const res = await infer('/v2/models/mlp/infer', { inputs: [input] });
        expect(res.status).toBe(400);
        expect(Object.keys(res.body)).toEqual(['error']);
        expect(res.body.error).toMatch(pattern);
      },
    );

    it('names a missing input and an unknown output', async () => {
      const reference = REFERENCE['multi_io.onnx'];
      const [a] = jsonInputs(reference);
      expect((await infer('/v2/models/multi_io/infer', { inputs: [a] })).body.error).toMatch(
        /Input b is missing/,
      );
      const res = await infer('/v2/models/multi_io/infer', {
        inputs: jsonInputs(reference),
        outputs: [{ name: 'nope' }],
      });
      expect(res.body.error).toMatch(/no output nope; it returns sum, norm/);
    });
  });

  describe('dynamic batching', () => {
    it('gives every concurrent request its own rows back, mixed sizes, one bad request among them', async () => {
      expect(
        (await register('mlp-batched', 'mlp.onnx', '?maxBatchSize=16&maxQueueDelayMicros=2000'))
          .status,
      ).toBe(201);
      const version = await api.request('GET', '/v1/models/mlp-batched/versions/1');
      expect(version.body.serving).toEqual({
        batching: { maxBatchSize: 16, maxQueueDelayMicros: 2000 },
      });
      const requests = Array.from({ length: 40 }, (_, i) => {
        const rows = (i % 5) + 1;
        const data = Array.from({ length: rows * 4 }, (_, j) => Math.fround(Math.sin(i * 31 + j)));
        return { rows, data };
      });
      const send = (model: string, { rows, data }: { rows: number; data: number[] }) =>
        infer(`/v2/models/${model}/infer`, {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 4], data }],
        });
      const [batched, bad] = await Promise.all([
        Promise.all(requests.map((request) => send('mlp-batched', request))),
        send('mlp-batched', { rows: 1, data: [1, 2, 3] }),
      ]);
      expect(bad.status).toBe(400);
      for (const [i, request] of requests.entries()) {
        const alone = await send('mlp', request);
        expect(batched[i].status).toBe(200);
        expect(batched[i].body.outputs[0].shape).toEqual([request.rows, 3]);
        expectClose(batched[i].body.outputs[0].data, alone.body.outputs[0].data, 1e-6);
      }
      const metrics = await api.request('GET', '/metrics');
      const batches = /modeldock_batch_size_count\{model="mlp-batched",version="1"\} (\d+)/.exec(
        metrics.text,
      );
      const rows = /modeldock_batch_size_sum\{model="mlp-batched",version="1"\} (\d+)/.exec(
        metrics.text,
      );
      expect(Number(rows?.[1])).toBe(requests.reduce((sum, request) => sum + request.rows, 0));
      expect(Number(batches?.[1])).toBeLessThan(requests.length);
      expect(metrics.text).toMatch(
        /modeldock_batch_queue_delay_seconds_count\{model="mlp-batched",version="1"\} 40/,
      );
    });
  });

  describe('export and round trip', () => {
    it('exports a version trained here as ONNX that predicts what it predicts, and imports it back', async () => {
      const csv = [
        'x1,x2,color,y',
        ...Array.from({ length: 60 }, (_, i) => {
          const x1 = (i % 7) - 3;
          const x2 = Math.cos(i);
          const color = ['red', 'green', 'blue'][i % 3];
          return `${x1},${x2.toFixed(4)},${color},${(2 * x1 - x2 + (color === 'red' ? 1 : 0)).toFixed(4)}`;
        }),
      ].join('\n');
      const dataset = await api.request('POST', '/v1/datasets?name=exportable', csv, {
        'content-type': 'text/csv',
      });
      const job = await api.request('POST', '/v1/training-jobs', {
        dataset: dataset.body.id,
        model: 'exportable',
        target: 'y',
        algorithm: 'linear-regression',
        validationSplit: 0,
      });
      expect((await waitForJob(api, job.body.id)).status).toBe('succeeded');
      const exported = await fetch(
        `${api.baseUrl}/v1/models/exportable/versions/1/artifact?format=onnx`,
        {
          headers: { authorization: `Bearer ${adminKey()}` },
        },
      );
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-disposition')).toContain('exportable-v1.onnx');
      const graph = Buffer.from(await exported.arrayBuffer());
      const imported = await api.request(
        'POST',
        '/v1/models/exportable/versions',
        graph,
        octetStream,
      );
      expect(imported.status).toBe(201);
      expect(imported.body.inputSchema.map((input: { name: string }) => input.name)).toEqual([
        'x1',
        'x2',
        'color',
      ]);
      const rows = [
        { x1: 1, x2: 0.5, color: 'red' },
        { x1: -2, x2: 0.25, color: 'blue' },
        { x1: 0, x2: null, color: 'purple' },
      ];
      const ours = await api.request('POST', '/v1/models/exportable/predict?version=1', {
        instances: rows,
      });
      const inputs = [
        { name: 'x1', datatype: 'FP64', shape: [3, 1], data: [1, -2, 0] },
        { name: 'x2', datatype: 'FP64', shape: [3, 1], data: [0.5, 0.25, 0] },
        { name: 'color', datatype: 'BYTES', shape: [3, 1], data: ['red', 'blue', 'purple'] },
      ];
      const imputed = await api.request('GET', '/v1/models/exportable/versions/1/artifact');
      const x2Impute = imputed.body.preprocessing[1].impute;
      inputs[1].data[2] = x2Impute;
      const theirs = await infer('/v2/models/exportable/versions/2/infer', { inputs });
      expect(theirs.status).toBe(200);
      expectClose(theirs.body.outputs[0].data, ours.body.predictions, 1e-9);
    });
  });

  describe('lifetime', () => {
    it('serves ONNX versions after a restart, and on another replica of the same database', async () => {
      const reference = REFERENCE['mlp.onnx'];
      const expectServed = async (app: TestApp) => {
        const res = await app.request('POST', '/v2/models/mlp/infer', {
          inputs: jsonInputs(reference),
        });
        expect(res.status).toBe(200);
        expectClose(res.body.outputs[0].data, reference.outputs.probabilities.data, 1e-5);
      };
      await api.close();
      api = await startApp(dataDir);
      await expectServed(api);
      const replica = await startApp(dataDir);
      try {
        await expectServed(replica);
      } finally {
        await replica.close();
      }
    });

    it('says a version whose artifact no longer loads is not ready (503), and refuses its requests with why', async () => {
      expect((await register('broken', 'mlp.onnx')).status).toBe(201);
      const [row] = await api.app
        .get(DataSource)
        .query(
          "SELECT v.id AS id FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE m.name = 'broken'",
        );
      await api.app
        .get<ObjectStorage>(OBJECT_STORAGE)
        .put(`artifacts/${row.id}`, Buffer.from('garbage'));
      const ready = await api.request('GET', '/v2/models/broken/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ name: 'broken', ready: false });
      const res = await infer('/v2/models/broken/infer', {
        inputs: jsonInputs(REFERENCE['mlp.onnx']),
      });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/Version 1 of broken could not be loaded for serving: .*not/);
    });

    it('keeps the event loop free while a heavy inference runs', async () => {
      expect((await register('ocr', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')).status).toBe(201);
      // 64 crops, sent as binary (7 MB): parsing them as JSON text would hold the loop itself.
      const crop = Float32Array.from(ocrInput());
      const batch = Buffer.alloc(crop.byteLength * 64);
      for (let i = 0; i < 64; i++) Buffer.from(crop.buffer).copy(batch, i * crop.byteLength);
      const request = binaryRequest(
        {
          inputs: [
            {
              name: 'x',
              datatype: 'FP32',
              shape: [64, 3, 48, 192],
              parameters: { binary_data_size: batch.length },
            },
          ],
        },
        [batch],
      );
      const heavy = rawPost('/v2/models/ocr/infer', request.body, request.headers).then(
        async (response) => ({ status: response.status, body: (await response.json()) as any }),
      );
      // Cheap requests, one after the other, for as long as the inference runs.
      let cheapAnswers = 0;
      let done = false;
      void heavy.then(() => (done = true));
      while (!done) {
        const live = await api.request('GET', '/health/live');
        expect(live.status).toBe(200);
        if (!done) cheapAnswers++;
      }
      const res = await heavy;
      expect(res.status).toBe(200);
      expectClose(
        res.body.outputs[0].data.slice(0, 2),
        REFERENCE['ch_ppocr_mobile_v2.0_cls_infer.onnx'].outputs['softmax_0.tmp_0'].data,
        1e-4,
      );
      // Answered while the inference ran: had it held the event loop, none would have been.
      expect(cheapAnswers).toBeGreaterThanOrEqual(10);
    });
  });
});

function adminKey(): string {
  return 'test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';
}

/** The astronaut photo (240×320 RGB) as the face detector takes it: CHW, (pixel − 127) / 128. */
function faceDetectorInput(): Float32Array {
  const rgb = onnxFile('astronaut-320x240.rgb');
  const [height, width] = [240, 320];
  const input = new Float32Array(3 * height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        input[c * height * width + y * width + x] = (rgb[(y * width + x) * 3 + c] - 127) / 128;
      }
    }
  }
  return input;
}

/** The 48×192 crop the OCR direction classifier takes: CHW, (pixel / 255 − 0.5) / 0.5. */
function ocrInput(): number[] {
  const rgb = onnxFile('astronaut-320x240.rgb');
  const values: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let y = 180; y < 228; y++) {
      for (let x = 64; x < 256; x++) values.push((rgb[(y * 320 + x) * 3 + c] / 255 - 0.5) / 0.5);
    }
  }
  return values;
}
