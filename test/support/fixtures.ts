import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const dir = path.join(__dirname, '..', 'fixtures');

export const diabetesCsv = readFileSync(path.join(dir, 'diabetes.csv'), 'utf8');
export const diabetesReference = JSON.parse(
  readFileSync(path.join(dir, 'diabetes.sklearn.json'), 'utf8'),
) as {
  features: string[];
  coefficients: Record<string, number>;
  intercept: number;
  metrics: { r2: number; mse: number; rmse: number; mae: number };
  firstPredictions: number[];
};

/** The data rows of a numeric CSV as feature arrays (the last column, the target, dropped). */
function featureRows(csv: string): number[][] {
  return csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').slice(0, -1).map(Number));
}

/** The first `count` data rows of diabetes.csv as arrays of the 10 features. */
export function diabetesInstances(count: number): number[][] {
  return featureRows(diabetesCsv).slice(0, count);
}

/** A small table as JSON rows: y = 1 + 2*x1 - 3*x2 exactly. */
export function lineDataset(name = 'line') {
  const rows: number[][] = [];
  for (let i = 0; i < 40; i++) {
    const x1 = i % 7;
    const x2 = (i * 3) % 5;
    rows.push([x1, x2, 1 + 2 * x1 - 3 * x2]);
  }
  return { name, columns: ['x1', 'x2', 'y'], rows };
}

export const housingCsv = readFileSync(path.join(dir, 'housing-small.csv'), 'utf8');
export const housingReference = JSON.parse(
  readFileSync(path.join(dir, 'housing-small.sklearn.json'), 'utf8'),
) as {
  features: string[];
  coefficients: Record<string, number>;
  intercept: number;
  predictions: number[];
};

/** The housing rows as feature arrays (price dropped). */
export function housingInstances(): number[][] {
  return featureRows(housingCsv);
}

/** scikit-learn's housing fit as a modeldock/v1 artifact with raw-space coefficients. */
export function housingArtifact(scale = 1) {
  return {
    format: 'modeldock/v1',
    algorithm: 'linear-regression',
    inputs: housingReference.features.map((name) => ({ name, type: 'number' })),
    output: { name: 'price', type: 'number' },
    coefficients: housingReference.features.map(
      (name) => housingReference.coefficients[name] * scale,
    ),
    intercept: housingReference.intercept * scale,
  };
}

/**
 * A wide table for long trainings: gradient descent costs O(features²) per epoch, so a few
 * thousand epochs take seconds and a million many.
 */
export function wideDataset(featureCount = 100) {
  const features = Array.from({ length: featureCount }, (_, j) => `f${j}`);
  const rows = Array.from({ length: 300 }, (_, i) => {
    const xs = features.map((_, j) => Math.sin(i * 0.37 + j * 1.3) + ((i * j) % 7));
    return [...xs, xs.reduce((sum, x, j) => sum + x * (j % 3), 0)];
  });
  return { name: 'wide', columns: [...features, 'y'], rows };
}
