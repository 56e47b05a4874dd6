/**
 * What training needs of its input, decided from column summaries alone: the API checks a job
 * request with these rules before queueing it (from the dataset's stored summaries), and train()
 * checks its columns with the same rules, so the worker never refuses what the API accepted.
 */
import { ALGORITHMS, Algorithm } from './hyperparameters';
import type { FieldProblem } from './field-problem';

/** Fewer training rows than this cannot be fitted (nor scored). */
export const MIN_TRAIN_ROWS = 2;
/** A target with more distinct values than this is a quantity or an identifier, not class labels. */
export const MAX_CLASSES = 100;
/** One-hot encoding a string feature with more distinct values than this would blow up the model. */
export const MAX_CATEGORIES = 1000;
export const DEFAULT_VALIDATION_SPLIT = 0.2;
export const MAX_VALIDATION_SPLIT = 0.9;

/** The facts about a column the rules read (a dataset's stored column summary is one). */
export interface ColumnSummaryLike {
  name: string;
  type: 'number' | 'string';
  /** Cells without a value. */
  missing: number;
  /**
   * Distinct non-missing values, counted at least up to MAX_CATEGORIES + 1. Read for the target
   * and for string features only.
   */
  distinct: number;
}

export interface TrainingInputFacts {
  algorithm: Algorithm;
  target: ColumnSummaryLike;
  /** In request order: a problem with the i-th is reported as `features[i]`. */
  features: ColumnSummaryLike[];
  rowCount: number;
  validationSplit: number;
}

/**
 * Rows the splitter holds out for validation: trainValidationSplit takes exactly this many,
 * stratifiedSplit at most this many (it never takes a class's last row).
 */
export function validationRowCount(rowCount: number, validationSplit: number): number {
  return Math.round(rowCount * validationSplit);
}

/** Every problem with the input, each saying what is wrong and how to fix it; empty when it fits. */
export function checkTrainingInput(input: TrainingInputFacts): FieldProblem[] {
  return [
    ...algorithmProblems(input.algorithm),
    ...featureProblems(input),
    ...targetProblems(input),
    ...rowProblems(input),
  ];
}

/** One sentence for the first problem, for a job's error or a problem's detail. */
export function describeTrainingInputProblems(problems: FieldProblem[]): string {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : '';
  return `The dataset does not fit this training job: ${problems[0].message}${more}.`;
}

function algorithmProblems(algorithm: Algorithm): FieldProblem[] {
  return ALGORITHMS.includes(algorithm)
    ? []
    : [
        {
          field: 'algorithm',
          message: `unknown algorithm ${algorithm}; use ${ALGORITHMS.join(', ')}`,
        },
      ];
}

function featureProblems({ target, features }: TrainingInputFacts): FieldProblem[] {
  if (features.length === 0) {
    return [{ field: 'features', message: 'select at least one feature column to train on' }];
  }
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  features.forEach(({ name, type, distinct }, i) => {
    const field = `features[${i}]`;
    if (name.trim() === '') {
      problems.push({ field, message: 'a feature name must not be empty' });
    } else if (name === target.name) {
      problems.push({ field, message: `${name} is the target; remove it from the features` });
    } else if (seen.has(name)) {
      problems.push({ field, message: `${name} is listed more than once; list it once` });
    } else if (type === 'string' && distinct > MAX_CATEGORIES) {
      problems.push({
        field,
        message: `column ${name} has more than ${MAX_CATEGORIES} distinct strings, too many to one-hot encode; drop it or group its values`,
      });
    }
    seen.add(name);
  });
  return problems;
}

function targetProblems({ algorithm, target, rowCount }: TrainingInputFacts): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { name, type, missing } = target;
  const problem = (message: string) => problems.push({ field: 'target', message });
  if (missing > 0) {
    problem(
      `column ${name} is missing in ${missing} of ${rowCount} rows; a target cannot be imputed: fill them in or drop those rows`,
    );
  }
  if (algorithm !== 'logistic-regression') {
    if (type !== 'number') {
      problem(
        `column ${name} holds strings (class labels); ${algorithm} predicts numbers, use logistic-regression`,
      );
    }
    return problems;
  }
  const classes = target.distinct;
  if (classes < 2) {
    problem(
      `column ${name} has ${classes === 0 ? 'no class label' : 'a single class'}; logistic-regression needs at least 2 classes to tell apart`,
    );
  } else if (classes > MAX_CLASSES || (classes > 2 && classes > rowCount / 2)) {
    // A label column repeats its values; mostly distinct values are a measurement or an identifier.
    const count = classes > MAX_CATEGORIES ? `more than ${MAX_CATEGORIES}` : String(classes);
    problem(
      type === 'number'
        ? `column ${name} has ${count} distinct values in ${rowCount} rows, too many to be class labels (at most ${MAX_CLASSES}, repeating); to predict a number, use linear-regression or ridge-regression`
        : `column ${name} has ${count} distinct labels in ${rowCount} rows; logistic-regression needs at most ${MAX_CLASSES} class labels that repeat, such as "yes"/"no"`,
    );
  }
  return problems;
}

function rowProblems({ rowCount, validationSplit }: TrainingInputFacts): FieldProblem[] {
  if (!(validationSplit >= 0 && validationSplit <= MAX_VALIDATION_SPLIT)) {
    return [
      {
        field: 'validationSplit',
        message: `validationSplit must be between 0 and ${MAX_VALIDATION_SPLIT}, got ${validationSplit}`,
      },
    ];
  }
  if (rowCount < MIN_TRAIN_ROWS) {
    return [
      {
        field: 'dataset',
        message: `the dataset has ${rowCount} row(s); training needs at least ${MIN_TRAIN_ROWS}: upload more rows`,
      },
    ];
  }
  const trainRows = rowCount - validationRowCount(rowCount, validationSplit);
  if (trainRows < MIN_TRAIN_ROWS) {
    return [
      {
        field: 'validationSplit',
        message: `validationSplit ${validationSplit} leaves ${trainRows} of ${rowCount} rows for training; at least ${MIN_TRAIN_ROWS} are needed: lower validationSplit or upload more rows`,
      },
    ];
  }
  return [];
}
