import { InvalidInputError } from '../common/errors';
import { FieldErrorList, MAX_LISTED_ERRORS } from '../common/field-error-list';
import { allocFloat64, type FeatureSpec, type PredictionBatch } from '../ml';

/** What request parsing needs to know of a version's inputs, worked out once when it is loaded. */
export interface FeatureLayout {
  readonly inputs: readonly FeatureSpec[];
  readonly names: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly hasStrings: boolean;
  /** false for artifacts without imputation (v1): missing values are refused. */
  readonly acceptsMissing: boolean;
}

export function featureLayout(
  inputs: readonly FeatureSpec[],
  acceptsMissing: boolean,
): FeatureLayout {
  const names = inputs.map((input) => input.name);
  return {
    inputs,
    names,
    indexOf: new Map(names.map((name, index) => [name, index])),
    hasStrings: inputs.some((input) => input.type === 'string'),
    acceptsMissing,
  };
}

/**
 * Fills the predictor's row-major batch one value at a time, checking each against its feature,
 * and collects the problems (the first MAX_LISTED_ERRORS) by field so a bad request is answered with all of them.
 * Shared by the v1 `instances` and the Open Inference Protocol's tensors.
 */
export class BatchBuilder {
  private readonly width: number;
  private readonly numbers: Float64Array;
  private readonly strings: (string | null)[] | null;
  private readonly errors = new FieldErrorList();

  constructor(
    private readonly rowCount: number,
    private readonly layout: FeatureLayout,
  ) {
    this.width = layout.inputs.length;
    this.numbers = allocFloat64(rowCount * this.width);
    this.strings = layout.hasStrings
      ? new Array<string | null>(rowCount * this.width).fill(null)
      : null;
  }

  /** True once enough problems are known: callers stop scanning, the answer would not change. */
  get full(): boolean {
    return this.errors.full;
  }

  report(field: string, message: string): void {
    if (!this.full) this.errors.add(field, message);
  }

  /**
   * Stores row `row`, feature `j`; returns what is wrong with the value, or null when it is fine.
   * `null` is a missing value: imputed by models that learned how, refused otherwise.
   */
  set(row: number, j: number, value: unknown): string | null {
    const offset = row * this.width + j;
    if (value === null) {
      if (!this.layout.acceptsMissing)
        return 'is missing; this version has no imputation, send a value';
      this.numbers[offset] = NaN;
      return null;
    }
    if (this.layout.inputs[j].type === 'number') {
      if (typeof value === 'number' && Number.isFinite(value)) {
        this.numbers[offset] = value;
        return null;
      }
      return `must be a finite number; got ${describe(value)}`;
    }
    // String features take strings; a number is taken as its decimal text (a zip code, a year).
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      this.strings![offset] = String(value);
      this.numbers[offset] = NaN;
      return null;
    }
    return `must be a string; got ${describe(value)}`;
  }

  /** The batch, or an InvalidInputError listing every problem reported. */
  build(what: string): PredictionBatch {
    const { listed } = this.errors;
    if (listed.length > 0) {
      const more = this.full ? ` (first ${MAX_LISTED_ERRORS} shown)` : '';
      throw new InvalidInputError(
        `${listed.length} invalid value(s) in ${what}${more}; expected features in this order: ${this.layout.names.join(', ')}.`,
        listed,
      );
    }
    return { rowCount: this.rowCount, numbers: this.numbers, strings: this.strings };
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}
