/**
 * Which columns of a version drift watches: the features a reference profiles and live requests
 * carry. Versions of our JSON format name theirs; an ONNX version is tabular when it has one 2-D
 * input whose columns were named at registration (`?features=`), or one [N] / [N, 1] input per
 * feature (as our own ONNX export has for string features).
 */
import type { SchemaEntry, ServingOptions } from '../models/model-version.entity';
import type { ColumnKind, DriftFeature } from './live-columns';

export interface VersionShape {
  format: string;
  inputSchema: SchemaEntry[];
  outputSchema: SchemaEntry[];
  serving: ServingOptions | null;
}

/** v2 output the predictions of versions trained here are answered in. */
const PREDICT_OUTPUT = 'predict';

export function isOnnx(version: VersionShape): boolean {
  return version.format.startsWith('onnx/');
}

/** The version's features, or null when it has none drift can read (a non-tabular ONNX graph). */
export function versionFeatures(version: VersionShape): DriftFeature[] | null {
  if (!isOnnx(version)) {
    return version.inputSchema.map(({ name, type }) => ({ name, kind: type as ColumnKind }));
  }
  const inputs = version.inputSchema;
  const names = version.serving?.features;
  if (inputs.length === 1 && inputs[0].shape?.length === 2 && names) {
    return names.map((name) => ({ name, kind: 'number' }));
  }
  const columnar = inputs.every(
    ({ shape }) => shape && (shape.length === 1 || (shape.length === 2 && shape[1] === 1)),
  );
  if (inputs.length > 0 && columnar) {
    return inputs.map(({ name, type }) => ({
      name,
      kind: type === 'BYTES' || type === 'STRING' ? 'string' : 'number',
    }));
  }
  return null;
}

/** v2 outputs that may hold the predictions, in order of preference: the target's name, `predict`. */
export function predictionOutputs(version: VersionShape): string[] {
  const names = version.outputSchema.map((output) => output.name);
  return [...new Set([names[0], PREDICT_OUTPUT].filter((name) => name !== undefined))];
}
