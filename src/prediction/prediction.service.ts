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
import { LoadedModelsService, LoadedVersion, selectorKey } from './loaded-models.service';

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

  /** The version a request selects: from memory, else resolved and loaded once for all callers. */
  select(model: string, selector: VersionSelector): LoadedVersion | Promise<LoadedVersion> {
    if (selector.version !== undefined && selector.alias !== undefined) {
      throw new InvalidInputError('Pass either ?version= or ?alias=, not both.');
    }
    // The query schema's coercion lets "Infinity" and "1e400" through as numbers.
    if (selector.version !== undefined) assertVersion(selector.version, 'querystring.version');
    return this.loaded.find(model, selectorKey(selector)) ?? this.loaded.load(model, selector);
  }

  predict(served: LoadedVersion, instances: readonly unknown[]): PredictionResult {
    const maxRows = this.config.prediction.maxRows;
    if (instances.length > maxRows) {
      throw new InvalidInputError(
        `${instances.length} instances exceed the limit of ${maxRows} per request; split the batch.`,
      );
    }
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

  infer(served: LoadedVersion, request: InferenceRequest): InferenceResponse {
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
   * The Open Inference Protocol's model metadata, of the version given or the one served by
   * default. Loading it to describe it also warms it for the first inference.
   */
  async modelMetadata(model: string, version?: number): Promise<ModelMetadataBody> {
    const served = await this.select(model, version === undefined ? {} : { version });
    const versions = await this.registry.readyVersionNumbers(model);
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
