/**
 * Drift's CPU work, as plain functions over plain data: what the drift thread (drift.thread.ts)
 * runs. No Nest, no database: the service reads, the thread computes.
 */
import { EncodedSource, readColumns } from '../datasets/column-codec';
import type { Column } from '../datasets/tabular-data';
import { compilePredictor, predictInChunks, validateArtifact } from '../ml';
import { compareColumn, FeatureDrift } from '../ml/drift';
import type { InputColumn } from '../ml/preprocessing';
import { profileReference, ReferenceProfile, ReferenceSamples } from '../ml/reference-profile';
import type { DriftFeature } from './live-columns';
import { LiveColumnsBuilder, LiveLayout } from './live-columns';

/**
 * Between the entries of a page, and between an entry's route, inputs and outputs: control
 * characters JSON text never holds raw (JSON.stringify writes them as \u001e, \u001f).
 */
export const ENTRY_SEPARATOR = '\u001e';
export const FIELD_SEPARATOR = '\u001f';

/**
 * One page of the prediction log, newest first: each entry's route, inputs and outputs joined by
 * FIELD_SEPARATOR, the entries by ENTRY_SEPARATOR (as the reader's query joins them).
 */
export interface LogPage {
  entries: string;
}

/** The logged rows of a window read into live columns, each compared with its reference. */
export interface LiveComparison {
  /** Logged rows compared. */
  rows: number;
  /** Logged requests whose inputs could not be read. */
  skipped: number;
  features: FeatureDrift[];
  predictions: FeatureDrift | null;
}

/** The profile a comparison needs: the reference's columns, without its counts of rows. */
export type ComparedProfile = Pick<ReferenceProfile, 'features' | 'predictions'>;

/** Live columns that stop taking rows once `maxRows` are read (the newest rows, read first). */
export class LiveSample {
  private readonly live: LiveColumnsBuilder;

  constructor(
    layout: LiveLayout,
    private readonly maxRows: number,
  ) {
    this.live = new LiveColumnsBuilder(layout);
  }

  /** Adds a page's entries until the sample is full; true when it is (later pages are not needed). */
  add(page: LogPage): boolean {
    const { live, maxRows } = this;
    const text = page.entries;
    let start = 0;
    while (start < text.length && live.rows < maxRows) {
      let end = text.indexOf(ENTRY_SEPARATOR, start);
      if (end < 0) end = text.length;
      const inputsAt = text.indexOf(FIELD_SEPARATOR, start);
      const outputsAt = inputsAt < 0 ? -1 : text.indexOf(FIELD_SEPARATOR, inputsAt + 1);
      if (outputsAt < 0 || outputsAt > end) {
        // Not three fields: an entry the query cannot make; counted as one not read.
        live.add('v1', '', '');
      } else {
        live.add(
          text.slice(start, inputsAt),
          text.slice(inputsAt + 1, outputsAt),
          text.slice(outputsAt + 1, end),
        );
      }
      start = end + 1;
    }
    return live.rows >= maxRows;
  }

  /** Every feature, then the predictions, compared with the reference. */
  compare(profile: ComparedProfile, samples: ReferenceSamples): LiveComparison {
    const { live } = this;
    const liveFeatures = live.features();
    const features = profile.features.map((column, j) =>
      compareColumn(column, samples[column.name], liveFeatures[j]),
    );
    const livePredictions = live.predictions();
    const predictions =
      profile.predictions && livePredictions
        ? compareColumn(profile.predictions, samples[profile.predictions.name], livePredictions)
        : null;
    return { rows: live.rows, skipped: live.skipped, features, predictions };
  }
}

/**
 * Profiles every row of the dataset's columns named by `features` as a reference; with `artifact`
 * (a version's JSON artifact, not for ONNX versions), its predictions on those rows too.
 */
export function profileColumns(
  source: EncodedSource,
  features: DriftFeature[],
  artifact: string | null,
  seed: number,
): { profile: ReferenceProfile; samples: ReferenceSamples } {
  const names = features.map((feature) => feature.name);
  const read = readColumns(source, names).columns;
  const columns = features.map((feature) => asFeature(read, feature));
  const rowCount = columns.length > 0 ? columns[0].values.length : 0;
  const rows = new Uint32Array(rowCount);
  for (let i = 0; i < rowCount; i++) rows[i] = i;
  const predictions = artifact === null ? null : predictColumn(artifact, columns, rows);
  return profileReference(columns, rows, predictions, seed);
}

/** The version's outputs on `rows`: a regressor's values, a classifier's labels (as strings). */
function predictColumn(artifact: string, columns: InputColumn[], rows: Uint32Array): InputColumn {
  const checked = validateArtifact(JSON.parse(artifact));
  if (checked.errors) throw new Error('the stored artifact is invalid');
  const predictor = compilePredictor(checked.artifact);
  const values = new Float64Array(predictor.kind === 'regression' ? rows.length : 0);
  const labels: (string | null)[] = [];
  predictInChunks(predictor, columns, rows, (start, output) => {
    if (output.kind === 'regression') values.set(output.values, start);
    else for (const label of output.labels) labels.push(String(label));
  });
  const column = checked.artifact.output.name;
  return predictor.kind === 'regression'
    ? { name: column, type: 'number', values }
    : { name: column, type: 'string', values: labels };
}

/** The dataset's column for `feature`, its numbers as strings where the version takes a string. */
function asFeature(columns: Column[], feature: DriftFeature): InputColumn {
  const column = columns.find((candidate) => candidate.name === feature.name);
  if (!column) throw new Error(`column ${feature.name} vanished after it was checked`);
  if (feature.kind === 'string' && column.type === 'number') {
    return {
      name: feature.name,
      type: 'string',
      values: Array.from(column.values, (value) => (value === value ? String(value) : null)),
    };
  }
  return column;
}
