import { onnx } from 'onnx-proto';
import { Datatype } from '../tensors/datatypes';

/** The newest ONNX IR version and `ai.onnx` opset the bundled onnxruntime-node (1.30) loads. */
export const MAX_IR_VERSION = 13;
export const MAX_DEFAULT_OPSET = 26;

/** A tensor a graph takes or returns; -1 marks a dimension the graph leaves open (symbolic). */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface OnnxSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** What the registry records of an ONNX file before onnxruntime loads it. */
export interface OnnxModelInfo {
  irVersion: number;
  /** `ai.onnx` for the default domain. */
  opsets: { domain: string; version: number }[];
  producer: string | null;
  signature: OnnxSignature;
  /** The model's metadata_props (the exporter's notes: ModelDock's exports write `modeldock.*`). */
  metadata: Record<string, string>;
}

/** Why a file cannot be registered: 400 when it is not a (whole) ONNX model, 422 when it is one we cannot run. */
export class OnnxModelError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 422,
  ) {
    super(message);
  }
}

/** ONNX's TensorProto.DataType → the protocol's datatype; the ones the protocol has no name for are absent. */
const ONNX_DATATYPES: Record<number, Datatype> = {
  1: 'FP32',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'BYTES',
  9: 'BOOL',
  10: 'FP16',
  11: 'FP64',
  12: 'UINT32',
  13: 'UINT64',
};
const ONNX_TYPE_NAMES: Record<number, string> = {
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
  23: 'FLOAT4E2M1',
};

/**
 * Reads an ONNX file's header and graph signature, and refuses what onnxruntime would refuse with
 * a message a user can act on: not ONNX at all, cut short, an IR version or opset newer than the
 * runtime, a graph without inputs or with tensors of a type the protocol cannot carry.
 */
export function inspectOnnx(bytes: Uint8Array): OnnxModelInfo {
  const first = bytes.find((byte) => byte > 32);
  if (first === 0x7b) {
    throw new OnnxModelError(
      "The file is not an ONNX model: it looks like JSON. A ModelDock JSON artifact is registered with Content-Type: application/json (curl -H 'Content-Type: application/json' --data-binary @model.json).",
      400,
    );
  }
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OnnxModelError(
      reason.includes('index out of range')
        ? `The file is cut short (${bytes.length} bytes): the ONNX model's encoding ends in the middle of a field. Upload the whole file.`
        : `The file is not an ONNX model: it does not decode as an ONNX ModelProto (${reason}). Upload the .onnx file itself.`,
      400,
    );
  }
  const irVersion = Number(model.irVersion);
  if (!model.graph || !(irVersion > 0)) {
    throw new OnnxModelError(
      'The file is not an ONNX model: it has no graph or no IR version. Upload the .onnx file itself.',
      400,
    );
  }
  if (irVersion > MAX_IR_VERSION) {
    throw new OnnxModelError(
      `The model's ONNX IR version is ${irVersion}; this server's runtime (onnxruntime ${runtimeVersion()}) loads IR versions up to ${MAX_IR_VERSION}. Export it with an older IR version (onnx.version_converter, or your exporter's ir_version option).`,
      422,
    );
  }
  const opsets = model.opsetImport.map((opset) => ({
    domain: opset.domain || 'ai.onnx',
    version: Number(opset.version),
  }));
  const defaultOpset = opsets.find((opset) => opset.domain === 'ai.onnx');
  if (defaultOpset && defaultOpset.version > MAX_DEFAULT_OPSET) {
    throw new OnnxModelError(
      `The model imports opset ${defaultOpset.version} of ai.onnx; this server's runtime (onnxruntime ${runtimeVersion()}) supports opsets up to ${MAX_DEFAULT_OPSET}. Export it with opset_version=${MAX_DEFAULT_OPSET} or lower.`,
      422,
    );
  }
  const signature = signatureOf(model.graph);
  if (signature.inputs.length === 0) {
    throw new OnnxModelError(
      'The model has no inputs: its graph computes constants. Export the graph with its inputs.',
      400,
    );
  }
  const metadata = Object.fromEntries(
    (model.metadataProps ?? []).map((prop) => [prop.key ?? '', prop.value ?? '']),
  );
  return { irVersion, opsets, producer: model.producerName || null, signature, metadata };
}

function signatureOf(graph: onnx.IGraphProto): OnnxSignature {
  // Older exporters list initializers (weights) among the inputs too; they are not fed.
  const weights = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const inputs = (graph.input ?? []).filter((input) => !weights.has(input.name ?? ''));
  return {
    inputs: inputs.map((value) => tensorSpec(value, 'input')),
    outputs: (graph.output ?? []).map((value) => tensorSpec(value, 'output')),
  };
}

function tensorSpec(value: onnx.IValueInfoProto, role: 'input' | 'output'): TensorSpec {
  const name = value.name ?? '';
  const tensorType = value.type?.tensorType;
  if (!tensorType) {
    throw new OnnxModelError(
      `The model's ${role} ${name} is not a tensor (a sequence or map); the inference protocols carry tensors only. Wrap the graph so its ${role}s are tensors.`,
      422,
    );
  }
  const elemType = tensorType.elemType ?? 0;
  const datatype = ONNX_DATATYPES[elemType];
  if (!datatype) {
    throw new OnnxModelError(
      `The model's ${role} ${name} has element type ${ONNX_TYPE_NAMES[elemType] ?? elemType}, which the inference protocols cannot carry. Cast it to FLOAT, DOUBLE or an integer type in the graph.`,
      422,
    );
  }
  const dims = tensorType.shape?.dim ?? [];
  const shape = dims.map((dim) =>
    dim.dimValue !== undefined && dim.dimValue !== null && Number(dim.dimValue) > 0
      ? Number(dim.dimValue)
      : -1,
  );
  return { name, datatype, shape };
}

function runtimeVersion(): string {
  // Read lazily: the ONNX runtime's native binding is loaded only where models are run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}
