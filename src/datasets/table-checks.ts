import { FieldErrorList } from '../common/field-error-list';
import { DATASET_LIMITS, DatasetParseError } from './tabular-data';

/** The problems of one upload, thrown as one DatasetParseError. */
export class ErrorList extends FieldErrorList {
  constructor(private readonly source: string) {
    super();
  }

  throwIfAny(): void {
    if (this.count > 0) throw this.toError();
  }

  toError(): DatasetParseError {
    const first = this.listed[0].message;
    if (this.count === 1) return new DatasetParseError(first, this.listed);
    const listed =
      this.count > this.listed.length ? `the first ${this.listed.length} are listed` : 'all listed';
    return new DatasetParseError(
      `${this.count} problems found in the ${this.source} (${listed}); the first: ${first}`,
      this.listed,
    );
  }
}

export function checkColumnNames(
  names: readonly string[],
  where: (index: number) => string,
  errors: ErrorList,
): void {
  const firstIndexOf = new Map<string, number>();
  names.forEach((name, index) => {
    const position = index + 1;
    if (name.trim() === '') {
      errors.add(
        where(index),
        `column ${position} has an empty name: give every column a non-blank name`,
      );
    } else if (name.length > DATASET_LIMITS.maxColumnNameLength) {
      errors.add(
        where(index),
        `column ${position} has a ${name.length}-character name but at most ${DATASET_LIMITS.maxColumnNameLength} are allowed: shorten it`,
      );
    } else {
      const earlier = firstIndexOf.get(name);
      if (earlier === undefined) {
        firstIndexOf.set(name, index);
      } else {
        errors.add(
          where(index),
          `the column name ${JSON.stringify(name)} is used by columns ${earlier + 1} and ${position}: column names must be unique, so rename one of them`,
        );
      }
    }
  });
}

export function tooManyColumnsMessage(what: string, count: number): string {
  return `${what} has ${count} columns but at most ${DATASET_LIMITS.maxColumns} are allowed: drop unused columns or split the dataset`;
}

export function emptyColumnMessage(name: string, index: number): string {
  return `column ${index + 1} (${JSON.stringify(name)}) has no values, every cell is empty: remove the column or fill in at least one value`;
}
