import * as ort from 'onnxruntime-node';
import type { Datatype, Tensor, TensorData } from '../tensors/datatypes';

/**
 * onnxruntime-node itself, for the two places that hold a session: a version's thread
 * (session.thread.ts) and, for graphs cheap enough, the event loop (onnx-session.ts). Both
 * `create` and `run` execute synchronously on the calling thread.
 */
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

export type OrtSession = ort.InferenceSession;

export function createOrtSession(model: Uint8Array, intraOpThreads: number): Promise<OrtSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Warnings would go to stderr unstructured; a load error reaches the caller as an exception.
    logSeverityLevel: 3,
  });
}

export async function runOrtSession(
  session: OrtSession,
  inputs: readonly Tensor[],
  outputs: readonly string[],
): Promise<Tensor[]> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const { name, datatype, shape, data } of inputs) {
    feeds[name] = new ort.Tensor(ORT_TYPES[datatype], data as ort.Tensor.DataType, shape);
  }
  const results = await session.run(feeds, outputs as string[]);
  return outputs.map((name) => {
    const tensor = results[name];
    const datatype = DATATYPES_OF.get(tensor.type);
    if (!datatype) {
      throw new Error(`output ${name} has type ${tensor.type}, which has no protocol datatype`);
    }
    return { name, datatype, shape: [...tensor.dims], data: tensor.data as TensorData };
  });
}
