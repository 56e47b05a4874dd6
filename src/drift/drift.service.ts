import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/roles';
import {
  FieldError,
  InvalidInputError,
  NotFoundError,
  UnprocessableInputError,
} from '../common/errors';
import type { Dataset } from '../datasets/dataset.entity';
import { DatasetsService } from '../datasets/datasets.service';
import type { DriftStatus, FeatureDrift } from '../ml/drift';
import { ModelsService, VersionWithAliases } from '../models/models.service';
import { DriftThread } from './drift-thread';
import type { DriftFeature } from './live-columns';
import { PredictionLogReader } from './prediction-log.reader';
import { ReferenceStore } from './reference-store';
import { isOnnx, predictionOutputs, versionFeatures } from './version-features';

/**
 * The most dataset rows a reference is computed from (in the drift thread: deciles by selection,
 * tens of milliseconds per million-row column, and the version's predictions on every row).
 */
export const MAX_REFERENCE_ROWS = 1_000_000;
/** Drift compares at most this many logged rows of a window, the newest: a sample that large rates any real shift. */
export const MAX_DRIFT_ROWS = 100_000;
/** The window when `from` is not given. */
export const DEFAULT_DRIFT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** The reference's samples are drawn with a fixed seed: the same dataset gives the same reference. */
const REFERENCE_SEED = 0;

const SEVERITY: Record<DriftStatus, number> = { ok: 0, warning: 1, drift: 2 };

export interface DriftWindow {
  from: Date;
  to: Date;
}

export interface DriftReport {
  model: string;
  version: number;
  from: Date;
  to: Date;
  /** Logged rows compared. */
  sampleSize: number;
  /** Logged requests in the window whose inputs could not be read (tensors kept as digests). */
  skippedRequests: number;
  /** Rows the reference profiled. */
  referenceSize: number;
  /** The worst status among the features rated (ok when none is). */
  status: DriftStatus;
  features: FeatureDrift[];
  predictions: FeatureDrift | null;
}

/**
 * References (what a version saw when it was made) and drift (how far its live inputs have moved
 * from that). The maths is src/ml's; this reads the registry, the dataset and the prediction log,
 * and the drift thread parses and computes, off the event loop.
 */
@Injectable()
export class DriftService {
  constructor(
    private readonly models: ModelsService,
    private readonly datasets: DatasetsService,
    private readonly log: PredictionLogReader,
    private readonly references: ReferenceStore,
    private readonly thread: DriftThread,
  ) {}

  /**
   * Profiles `datasetRef` (an id, or the newest dataset of that name) as the version's reference:
   * its feature columns, and the version's predictions on them (not for ONNX versions).
   */
  async setReference(
    name: string,
    versionNumber: number,
    datasetRef: string,
    actor: Actor,
  ): Promise<VersionWithAliases> {
    const { version } = await this.models.getVersion(name, versionNumber);
    const features = versionFeatures(version);
    if (!features) {
      throw new InvalidInputError(
        `Version ${versionNumber} of ${name} has no tabular input drift can profile: an ONNX graph needs ` +
          'one [N, features] input whose columns were named at registration (?features=a,b,c), or one ' +
          '[N] or [N, 1] input per feature.',
      );
    }
    const dataset = await this.datasets.findByIdOrName(datasetRef).catch((error: unknown) => {
      if (error instanceof NotFoundError) {
        throw new InvalidInputError(error.message, [
          { field: 'dataset', message: 'does not exist' },
        ]);
      }
      throw error;
    });
    if (dataset.rowCount > MAX_REFERENCE_ROWS) {
      throw new UnprocessableInputError(
        `Dataset ${dataset.name} has ${dataset.rowCount} rows; a reference is computed from at most ` +
          `${MAX_REFERENCE_ROWS}. Upload a uniform sample of it (the profile's deciles need no more).`,
        [{ field: 'dataset', message: `has more than ${MAX_REFERENCE_ROWS} rows` }],
      );
    }
    checkColumns(dataset, features, name, versionNumber);
    const { source } = await this.datasets.contentsFor(dataset.id);
    const artifact = isOnnx(version)
      ? null
      : (await this.models.getArtifact(name, versionNumber)).content.toString('utf8');
    const reference = await this.thread
      .profile(source, features, artifact, REFERENCE_SEED)
      .catch((error: unknown) => {
        throw new Error(`the reference of ${name} v${versionNumber}: ${String(error)}`);
      });
    await this.references.replace(version, reference, actor.name);
    return this.models.getVersion(name, versionNumber);
  }

  /** The version's logged inputs and outputs in `window`, each compared with its reference. */
  async drift(name: string, versionNumber: number, window: DriftWindow): Promise<DriftReport> {
    const { model, version } = await this.models.getVersion(name, versionNumber);
    const profile = version.reference;
    if (!profile) {
      throw new NotFoundError(
        `Version ${versionNumber} of ${name} has no reference to compare its predictions with. ` +
          `Create one from a dataset: PUT /v1/models/${name}/versions/${versionNumber}/reference ` +
          '{"dataset": "<id or name>"} (versions trained here get theirs from their training split).',
      );
    }
    const layout = {
      features: profile.features.map(({ name: column, kind }) => ({ name: column, kind })),
      predictionKind: profile.predictions?.kind ?? null,
      predictionOutputs: predictionOutputs(version),
    };
    const comparison = await this.thread.liveSample(layout, MAX_DRIFT_ROWS, async (live) => {
      const samples = this.references.samples(version.id);
      // Awaited after the log is read; a failure meanwhile is not an unhandled rejection.
      samples.catch(() => undefined);
      await this.log.read(model.id, versionNumber, window, live);
      return live.compare(profile, await samples);
    });
    const { features, predictions } = comparison;
    return {
      model: name,
      version: versionNumber,
      from: window.from,
      to: window.to,
      sampleSize: comparison.rows,
      skippedRequests: comparison.skipped,
      referenceSize: profile.rows,
      status: worstStatus(features),
      features,
      predictions,
    };
  }
}

/** `from` and `to` as given (ISO 8601, checked by the query DTO), else the last 24 hours. */
export function driftWindow(
  from: string | undefined,
  to: string | undefined,
  now: Date,
): DriftWindow {
  const end = to === undefined ? now : new Date(to);
  const start =
    from === undefined ? new Date(end.getTime() - DEFAULT_DRIFT_WINDOW_MS) : new Date(from);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    throw new InvalidInputError('from and to must be ISO 8601 times, e.g. 2026-12-03T12:00:00Z.');
  }
  if (start.getTime() >= end.getTime()) {
    throw new InvalidInputError(
      `The window is empty: from (${start.toISOString()}) must be before to (${end.toISOString()}).`,
      [{ field: 'from', message: 'must be before to' }],
    );
  }
  return { from: start, to: end };
}

/** Every feature must be a column of the dataset; numbers must be numbers (strings may be either). */
function checkColumns(
  dataset: Dataset,
  features: DriftFeature[],
  model: string,
  version: number,
): void {
  const types = new Map(dataset.columns.map((column) => [column.name, column.type]));
  const errors: FieldError[] = [];
  for (const feature of features) {
    const type = types.get(feature.name);
    if (type === undefined) {
      errors.push({ field: `dataset.columns.${feature.name}`, message: 'is missing' });
    } else if (feature.kind === 'number' && type !== 'number') {
      errors.push({
        field: `dataset.columns.${feature.name}`,
        message: `holds strings; the version's feature ${feature.name} is a number`,
      });
    }
  }
  if (errors.length === 0) return;
  const expected = features.map((feature) => `${feature.name} (${feature.kind})`).join(', ');
  throw new InvalidInputError(
    `Dataset ${dataset.name} cannot be the reference of version ${version} of ${model}: ` +
      `${errors.map((error) => `${error.field.slice('dataset.columns.'.length)} ${error.message}`).join('; ')}. ` +
      `Use a dataset with the version's features: ${expected} (other columns are ignored).`,
    errors,
  );
}

function worstStatus(features: FeatureDrift[]): DriftStatus {
  let worst: DriftStatus = 'ok';
  for (const feature of features) {
    if (feature.rated && SEVERITY[feature.status] > SEVERITY[worst]) worst = feature.status;
  }
  return worst;
}
