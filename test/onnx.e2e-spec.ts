import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
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
      headers: { authorization: `Bearer ${process.env.MODELDOCK_ADMIN_KEY ?? ''}`, ...headers },
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
      expectSchema('model_metadata_response', res.body);
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
      const res = await infer(`/v2/models/${name}/infer`, { id: 'r1', inputs: jsonInputs(reference) });
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
});

function adminKey(): string {
  return 'test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';
}

// Referenced so the helpers above stay in use as the spec grows.
void readdirSync;
void waitForJob;
void binaryRequest;
void readBinaryResponse;
void float32s;
