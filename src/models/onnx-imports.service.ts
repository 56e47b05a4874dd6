import { Inject, Injectable } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import type { Actor } from '../auth/roles';
import { AppError, InvalidInputError, UnprocessableInputError } from '../common/errors';
import { appConfig, AppConfig } from '../config/app.config';
import { OnnxModelError, OnnxSignature } from '../onnx/model-inspection';
import { OnnxSession } from '../onnx/onnx-session';
import { batchable } from '../onnx/onnx-servable';
import { onnxFormat } from './artifact-kind';
import type { ServingOptions } from './model-version.entity';
import type { UploadedModelFile } from './model-uploads';
import {
  assertName,
  ImportOptions,
  importedVersionFields,
  ModelsService,
  VersionWithAliases,
} from './models.service';

/** What an ONNX upload carries besides the file (query parameters). */
export interface OnnxImportOptions extends ImportOptions {
  /** Comma-separated labels of a classifier's probability columns. */
  classes?: string;
  /** Comma-separated names of a tabular input's columns. */
  features?: string;
  maxBatchSize?: number;
  maxQueueDelayMicros?: number;
}

/** A batch's first request waits at most this long for others, unless the upload says otherwise. */
export const DEFAULT_MAX_QUEUE_DELAY_MICROS = 500;

/**
 * Registers an uploaded ONNX file as a version: only once onnxruntime has loaded it, with its
 * signature read from the graph. A file that is not a model the runtime can run is a 400 or 422
 * that says why, and nothing is registered or left in storage or in DATA_DIR/uploads.
 */
@Injectable()
export class OnnxImportsService {
  constructor(
    private readonly models: ModelsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async register(
    name: string,
    upload: UploadedModelFile,
    options: OnnxImportOptions,
    actor: Actor,
  ): Promise<VersionWithAliases> {
    assertName(name, 'model');
    if (options.alias !== undefined) assertName(options.alias, 'alias');
    // Read, then gone before the answer: the route's hook only catches requests that never get here.
    const bytes = await readFile(upload.path).finally(() => upload.discard());
    const { signature, metadata } = await loadable(bytes, this.config);
    return this.models.registerVersion({
      model: name,
      algorithm: 'onnx',
      format: onnxFormat(signature.irVersion),
      artifact: bytes,
      inputSchema: signature.inputs.map(({ name, datatype, shape }) => ({
        name,
        type: datatype,
        shape,
      })),
      outputSchema: signature.outputs.map(({ name, datatype, shape }) => ({
        name,
        type: datatype,
        shape,
      })),
      ...importedVersionFields(options, actor),
      serving: servingOptions({ ...exportedOptions(metadata), ...options }, signature),
      digest: { checksum: upload.sha256, sizeBytes: upload.sizeBytes },
    });
  }
}

/** Loads the file once in onnxruntime (then lets it go); its refusal becomes the user's problem. */
async function loadable(
  bytes: Buffer,
  config: AppConfig,
): Promise<{ signature: OnnxSignature & { irVersion: number }; metadata: Record<string, string> }> {
  let session: OnnxSession;
  try {
    session = await OnnxSession.load(bytes, config.onnx);
  } catch (error) {
    if (!(error instanceof OnnxModelError)) throw error;
    throw error.status === 400
      ? new InvalidInputError(error.message, [
          { field: 'body', message: 'is not a loadable ONNX model' },
        ])
      : new UnprocessableInputError(error.message, [
          { field: 'body', message: 'cannot be run here' },
        ]);
  }
  const { signature, irVersion, metadata } = session.info;
  await session.release();
  return { signature: { ...signature, irVersion }, metadata };
}

/**
 * A graph exported by ModelDock names its features and classes in its metadata: imported back, it
 * takes v1 objects and answers labels without being told again.
 */
function exportedOptions(metadata: Record<string, string>): OnnxImportOptions {
  try {
    const options: OnnxImportOptions = {};
    if (metadata['modeldock.input_layout'] === 'matrix' && metadata['modeldock.inputs']) {
      const inputs = JSON.parse(metadata['modeldock.inputs']) as { name: string }[];
      options.features = inputs.map((input) => input.name).join(',');
    }
    if (metadata['modeldock.classes']) {
      const classes = (JSON.parse(metadata['modeldock.classes']) as unknown[]).map(String);
      // Labels that a comma-separated list cannot carry are left for the uploader to give.
      if (
        classes.every((label) => label !== '' && label === label.trim() && !label.includes(','))
      ) {
        options.classes = classes.join(',');
      }
    }
    return options;
  } catch {
    return {}; // notes that do not parse are ignored: the graph itself is what serves
  }
}

/** The upload's serving options, checked against the graph they are for. */
function servingOptions(options: OnnxImportOptions, signature: OnnxSignature): ServingOptions {
  const serving: ServingOptions = {};
  if (options.maxBatchSize !== undefined) {
    if (!batchable(signature)) {
      throw problem(
        'maxBatchSize',
        'Dynamic batching joins requests along the first dimension, which this graph fixes: every input and output must have an open (-1) first dimension. Register it without maxBatchSize.',
      );
    }
    serving.batching = {
      maxBatchSize: options.maxBatchSize,
      maxQueueDelayMicros: options.maxQueueDelayMicros ?? DEFAULT_MAX_QUEUE_DELAY_MICROS,
    };
  } else if (options.maxQueueDelayMicros !== undefined) {
    throw problem('maxQueueDelayMicros', 'maxQueueDelayMicros needs maxBatchSize (batching on).');
  }
  if (options.classes !== undefined) {
    const labels = splitList(options.classes, 'classes');
    const numeric = labels.every((label) => /^-?\d{1,15}$/.test(label));
    const width = labels.length;
    const fits = signature.outputs.some(
      (output) =>
        (output.datatype === 'FP32' || output.datatype === 'FP64') &&
        output.shape.length === 2 &&
        (output.shape[1] === width || output.shape[1] === -1),
    );
    if (!fits) {
      throw problem(
        'classes',
        `${width} classes were given, but the graph has no FP32 or FP64 output of shape [N, ${width}] to label.`,
      );
    }
    serving.classes = numeric ? labels.map(Number) : labels;
  }
  if (options.features !== undefined) {
    const features = splitList(options.features, 'features');
    const [input] = signature.inputs;
    const width = input?.shape[1];
    if (
      signature.inputs.length !== 1 ||
      input.shape.length !== 2 ||
      (width !== -1 && width !== features.length)
    ) {
      throw problem(
        'features',
        `${features.length} feature names were given, but the graph's input is not one [N, ${features.length}] tensor.`,
      );
    }
    serving.features = features;
  }
  return serving;
}

function splitList(value: string, field: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '') || new Set(items).size !== items.length) {
    throw problem(field, `${field} must be distinct, non-empty names separated by commas.`);
  }
  return items;
}

function problem(field: string, message: string): AppError {
  return new InvalidInputError(message, [{ field: `querystring.${field}`, message }]);
}
