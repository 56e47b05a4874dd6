// The ceiling for ONNX serving in bench:onnx: bare Fastify and onnxruntime-node, one session per
// model with ModelDock's default session options (src/onnx/onnx-session.ts), answering V2 infer in
// JSON and with Triton's binary tensor data extension. FP32 only, no checks, no framework around it.
// Run as `node dist/bench/bare-onnx-server.js <port> <name>=<file.onnx> ...`.
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

interface InferBody {
  inputs: { name: string; shape: number[]; data?: number[]; parameters?: Record<string, number> }[];
  outputs?: { name: string; parameters?: Record<string, boolean> }[];
}

async function serve(port: number, models: string[]): Promise<void> {
  const sessions = new Map<string, ort.InferenceSession>();
  for (const [name, file] of models.map((model) => model.split('='))) {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    sessions.set(name, await ort.InferenceSession.create(file, options));
  }
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_, body, done) =>
    done(null, body),
  );
  app.post<{ Params: { name: string } }>('/v2/models/:name/infer', async (request, reply) => {
    const session = sessions.get(request.params.name);
    if (!session) return reply.code(404).send({ error: 'unknown model' });
    // With the extension: the first Inference-Header-Content-Length bytes are JSON, then the data.
    const headerLength = Number(request.headers['inference-header-content-length'] ?? NaN);
    const raw = request.body as Buffer;
    const body: InferBody = Number.isNaN(headerLength)
      ? (request.body as InferBody)
      : JSON.parse(raw.toString('utf8', 0, headerLength));
    const feeds: Record<string, ort.Tensor> = {};
    let offset = headerLength;
    for (const { name, shape, data, parameters } of body.inputs) {
      const size = parameters?.binary_data_size;
      const values = size === undefined ? new Float32Array(data!) : new Float32Array(size / 4);
      if (size !== undefined) {
        new Uint8Array(values.buffer).set(raw.subarray(offset, offset + size)); // aligned copy
        offset += size;
      }
      feeds[name] = new ort.Tensor('float32', values, shape);
    }
    const asked: NonNullable<InferBody['outputs']> =
      body.outputs ?? session.outputNames.map((name) => ({ name }));
    const results = await session.run(
      feeds,
      asked.map((output) => output.name),
    );
    const parts: Buffer[] = [];
    const outputs = asked.map(({ name, parameters }) => {
      const { dims, data } = results[name] as ort.Tensor & { data: Float32Array };
      const output = { name, datatype: 'FP32', shape: dims };
      if (!parameters?.binary_data) return { ...output, data: Array.from(data) };
      parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { ...output, parameters: { binary_data_size: data.byteLength } };
    });
    const response = { model_name: request.params.name, outputs };
    if (parts.length === 0) return response;
    const header = Buffer.from(JSON.stringify(response));
    reply.header('inference-header-content-length', header.length);
    return reply.type('application/octet-stream').send(Buffer.concat([header, ...parts]));
  });
  await app.listen({ port, host: '127.0.0.1' });
}

serve(Number(process.argv[2]), process.argv.slice(3)).catch((error: unknown) => {
  process.stderr.write(`bare-onnx-server: ${String(error)}\n`);
  process.exit(1);
});
