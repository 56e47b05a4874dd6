// An ONNX session's thread (a piscina thread of its own): onnxruntime-node runs a session
// synchronously on the thread that calls it, so every load and inference happens here, never on
// the event loop. Imports onnxruntime only, never Nest or the database.
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { Datatype, Tensor, TensorData } from '../tensors/datatypes';

export interface SessionThreadData {
  model: Uint8Array;
  intraOpThreads: number;
}

/** Run the graph on these inputs for these outputs; without inputs, only wait for the load. */
export interface SessionTask {
  inputs: Tensor[];
  outputs: string[];
}

const ORT_TYPES: Record<Datatype, ort.Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
const DATATYPES_OF = new Map(
  Object.entries(ORT_TYPES).map(([datatype, type]) => [type, datatype as Datatype]),
);

const { model, intraOpThreads } = workerData as SessionThreadData;
const loading = ort.InferenceSession.create(model, {
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // Warnings would go to stderr unstructured; a load error reaches the caller as an exception.
  logSeverityLevel: 3,
});
// Seen by the first task; not an unhandled rejection before it comes.
loading.catch(() => undefined);

export default async function runSession({ inputs, outputs }: SessionTask): Promise<Tensor[]> {
  const session = await loading;
  if (inputs.length === 0) return [];
  const feeds: Record<string, ort.Tensor> = {};
  for (const { name, datatype, shape, data } of inputs) {
    feeds[name] = new ort.Tensor(ORT_TYPES[datatype], data as ort.Tensor.DataType, shape);
  }
  const results = await session.run(feeds, outputs);
  return outputs.map((name) => {
    const tensor = results[name];
    const datatype = DATATYPES_OF.get(tensor.type);
    if (!datatype)
      throw new Error(`output ${name} has type ${tensor.type}, which has no protocol datatype`);
    return { name, datatype, shape: [...tensor.dims], data: tensor.data as TensorData };
  });
}
