import { Inject, Injectable } from '@nestjs/common';
import { InvalidInputError, UnprocessableInputError } from '../common/errors';
import { appConfig, AppConfig } from '../config/app.config';
import { nonFiniteRows, type PredictionOutput, toNumberArray } from '../ml';
import { ServingVersionsService, VersionSelector } from '../models/serving-versions.service';
import { assertVersion } from '../models/version-number';
import type { ModelMetadataBody } from './dto/inference.dto';
import {
  decodeInputs,
  encodeOutputs,
  RequestTensor,
  ResponseTensor,
  tensorMetadata,
} from './inference-tensors';
import { parseInstances } from './instances';
import {
  LoadedModelsService,
  LoadedOnnxVersion,
  LoadedTabularVersion,
  LoadedVersion,
  selectorKey,
  ServedRoute,
} from './loaded-models.service';
import { graphInputs, instancesTensor, requestedOutputs, tabularOutputs } from './onnx-requests';
import type { Datatype, Tensor } from '../tensors/datatypes';
import { encodeOutput, takeBinaryInputs, wantsBinary } from '../tensors/binary-tensors';
import { decodeJsonTensor, jsonData } from '../tensors/json-tensors';

/** Rows named in an overflow error; a huge bad batch stays cheap to report. */
const MAX_NAMED_ROWS = 20;
const instanceField = (row: number) => `instances[${row}]`;
const inputRowField = (row: number) => `row ${row} of the inputs`;

export interface PredictionResult {
  model: string;
  version: number;
  /** Numbers for a regressor; class labels for a classifier. */
  predictions: (number | string)[];
  /** Classifiers: one row per instance, in `classes` order. */
  probabilities?: number[][];
  classes?: (number | string)[];
}

/** An Open Inference Protocol (KServe V2) inference request, already checked by the route's schema. */
export interface InferenceRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: RequestTensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export interface InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: ResponseTensor[];
}

/**
 * Answers predictions from loaded versions: synchronous, no database, one pass over the rows.
 * Both protocols share it; they differ only in how rows come in and results go out.
 */
@Injectable()
export class PredictionService {
  constructor(
    private readonly loaded: LoadedModelsService,
    private readonly registry: ServingVersionsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** What a request selects: from memory, else resolved and loaded once for all callers. */
  select(model: string, selector: VersionSelector): ServedRoute | Promise<ServedRoute> {
    if (selector.version !== undefined && selector.alias !== undefined) {
      throw new InvalidInputError('Pass either ?version= or ?alias=, not both.');
    }
    // The query schema's coercion lets "Infinity" and "1e400" through as numbers.
    if (selector.version !== undefined) assertVersion(selector.version, 'querystring.version');
    return this.loaded.find(model, selectorKey(selector)) ?? this.loaded.load(model, selector);
  }

  predict(
    served: LoadedVersion,
    instances: readonly unknown[],
  ): PredictionResult | Promise<PredictionResult> {
    const maxRows = this.config.prediction.maxRows;
    if (instances.length > maxRows) {
      throw new InvalidInputError(
        `${instances.length} instances exceed the limit of ${maxRows} per request; split the batch.`,
      );
    }
    if (served.kind === 'onnx') return this.predictOnnx(served, instances);
    const output = served.predictor.predict(parseInstances(instances, served.layout));
    refuseNonFinite(output, instanceField);
    const { model, version } = served;
    if (output.kind === 'regression') {
      return { model, version, predictions: toNumberArray(output.values) };
    }
    const width = output.classes.length;
    const probabilities = Array.from({ length: instances.length }, (_, row) =>
      toNumberArray(output.probabilities.subarray(row * width, (row + 1) * width)),
    );
    return { model, version, predictions: output.labels, probabilities, classes: output.classes };
  }

  private async predictOnnx(
    served: LoadedOnnxVersion,
    instances: readonly unknown[],
  ): Promise<PredictionResult> {
    const input = instancesTensor(served, instances);
    const names = served.onnx.signature.outputs.map((output) => output.name);
    const outputs = await served.onnx.infer([input], names);
    const { model, version } = served;
    return { model, version, ...tabularOutputs(served, outputs) } as PredictionResult;
  }

  /** The JSON-only path of a version trained here: synchronous, no tensor copies. */
  infer(served: LoadedTabularVersion, request: InferenceRequest): InferenceResponse {
    const batch = decodeInputs(request.inputs, served.layout, this.config.prediction.maxRows);
    const output = served.predictor.predict(batch);
    refuseNonFinite(output, inputRowField);
    const outputs = encodeOutputs(output, batch.rowCount, request.outputs);
    return {
      model_name: served.model,
      model_version: String(served.version),
      ...(request.id !== undefined ? { id: request.id } : {}),
      ...(request.parameters !== undefined ? { parameters: request.parameters } : {}),
      outputs,
    };
  }

  /**
   * Any inference request: ONNX versions, and binary tensor data (the extension) either way. The
   * answer's binary parts follow its JSON, in output order, when any output is sent as binary.
   */
  async inferTensors(
    served: LoadedVersion,
    request: InferenceRequest,
    binary: Buffer | null,
  ): Promise<TensorAnswer> {
    const outputs = await this.outputTensors(served, request, binary);
    const parts: Buffer[] = [];
    const encoded = outputs.map((tensor, i) => {
      const asked = request.outputs?.[i]?.parameters;
      const { output, bytes } = encodeOutput(
        tensor,
        wantsBinary(request.parameters, asked, tensor.name),
      );
      if (bytes) parts.push(bytes);
      return output;
    });
    return {
      response: {
        model_name: served.model,
        model_version: String(served.version),
        ...(request.id !== undefined ? { id: request.id } : {}),
        ...(request.parameters !== undefined ? { parameters: request.parameters } : {}),
        outputs: encoded as ResponseTensor[],
      },
      binaryParts: parts,
      outputs,
    };
  }

  /** An inference's output tensors, before they are encoded for the answer. */
  async outputTensors(
    served: LoadedVersion,
    request: InferenceRequest,
    binary: Buffer | null,
  ): Promise<Tensor[]> {
    if (served.kind === 'onnx') {
      const tensors = binary
        ? takeBinaryInputs(request.inputs, binary)
        : request.inputs.map((input, position) => decodeJsonTensor(input, position));
      const names = requestedOutputs(served, request.outputs);
      return served.onnx.infer(graphInputs(served, tensors), names);
    }
    // Binary inputs become the JSON form the tabular decoder reads (null still means missing).
    const inputs = binary
      ? takeBinaryInputs(request.inputs, binary).map((tensor) => ({
          ...tensor,
          data: jsonData(tensor),
        }))
      : request.inputs;
    return this.infer(served, { ...request, inputs }).outputs.map(asTensor);
  }

  /**
   * The Open Inference Protocol's model metadata, of the version given or the one served by
   * default. Loading it to describe it also warms it for the first inference.
   */
  async modelMetadata(model: string, version?: number): Promise<ModelMetadataBody> {
    const { primary: served } = await this.select(model, version === undefined ? {} : { version });
    const versions = await this.registry.readyVersionNumbers(model);
    if (served.kind === 'onnx') return onnxMetadata(served, versions);
    const { predictor } = served;
    const properties: Record<string, string> = {
      version: String(served.version),
      algorithm: served.algorithm,
    };
    if (predictor.classes) properties.classes = JSON.stringify(predictor.classes);
    return {
      name: model,
      versions: versions.map(String),
      platform: `modeldock_${served.format.slice(served.format.indexOf('/') + 1)}`,
      ...tensorMetadata(predictor),
      properties,
    };
  }
}

/** An inference's answer: the response (JSON), and the binary parts that follow it, if any. */
export interface TensorAnswer {
  response: InferenceResponse;
  binaryParts: Buffer[];
  /** The outputs as tensors, before encoding. */
  outputs: Tensor[];
}

/** A tabular version's output tensor (FP64, INT64 or BYTES values) as a typed tensor. */
export function asTensor(output: ResponseTensor): Tensor {
  const { name, shape } = output;
  const datatype = output.datatype as Datatype;
  if (datatype === 'BYTES') return { name, shape, datatype, data: output.data as string[] };
  if (datatype === 'INT64') {
    return { name, shape, datatype, data: BigInt64Array.from(output.data as number[], BigInt) };
  }
  return { name, shape, datatype, data: Float64Array.from(output.data as number[]) };
}

/** An ONNX version as the protocol describes it: the graph's own tensors, -1 for open dimensions. */
function onnxMetadata(served: LoadedOnnxVersion, versions: number[]): ModelMetadataBody {
  const { signature } = served.onnx;
  const properties: Record<string, string> = {
    version: String(served.version),
    algorithm: served.algorithm,
    batching: served.onnx.batching ? JSON.stringify(served.options.batching) : 'off',
  };
  if (served.options.classes) properties.classes = JSON.stringify(served.options.classes);
  if (served.options.features) properties.features = JSON.stringify(served.options.features);
  return {
    name: served.model,
    versions: versions.map(String),
    platform: 'onnxruntime_onnx',
    inputs: signature.inputs,
    outputs: signature.outputs,
    properties,
  };
}

/**
 * Never answer a non-finite prediction (JSON would carry it as null): values so large that the
 * model's arithmetic overflows are refused, naming the rows. 422, not 400: every value is a valid
 * finite number and the request is well formed; only these magnitudes cannot be computed with.
 */
function refuseNonFinite(output: PredictionOutput, rowName: (row: number) => string): void {
  const rows = nonFiniteRows(output, MAX_NAMED_ROWS);
  if (rows.length === 0) return;
  const more = rows.length === MAX_NAMED_ROWS ? ` (first ${MAX_NAMED_ROWS} shown)` : '';
  throw new UnprocessableInputError(
    `${rows.map(rowName).join(', ')}${more}: no finite prediction, the values are so large that ` +
      "the model's arithmetic overflows. Send values on the scale of the training data.",
    rows.map((row) => ({ field: rowName(row), message: 'overflows the model' })),
  );
}
