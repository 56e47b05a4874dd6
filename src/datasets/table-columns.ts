import { ColumnSummarizer, ColumnSummary } from './column-stats';
import type { HeaderColumn } from './column-codec';
import type { ColumnOutput } from './column-output';
import type { ColumnType } from './tabular-data';

/** A table read from an upload: the output's result, the row count and each column's summary. */
export interface ReadTable<Result> {
  result: Result;
  rowCount: number;
  columns: ColumnSummary[];
}

/**
 * The columns of a table being read in batches: their types as inferred so far (number until a
 * cell that is not one turns the column into text, for good), their summaries, and the output the
 * cells go to. The readers (plain-csv-reader.ts, csv-parse-reader.ts) say what each batch holds;
 * this keeps the rule of inference and the summaries in one place.
 */
export class TableColumns<Result> {
  readonly types: ColumnType[];
  private summaries: ColumnSummarizer[];
  /** While a number column's texts are kept aside: their summary, should they become its values. */
  private readonly shadowSummaries: (ColumnSummarizer | null)[];
  private rows = 0;

  constructor(
    readonly names: readonly string[],
    private readonly output: ColumnOutput<Result>,
  ) {
    this.types = names.map(() => 'number');
    this.summaries = names.map(() => new ColumnSummarizer());
    this.shadowSummaries = names.map(() => null);
  }

  get rowCount(): number {
    return this.rows;
  }

  numbers(column: number, values: Float64Array, count: number): void {
    this.summaries[column].addNumbers(values, count);
    this.output.appendNumbers(column, values, count);
  }

  texts(column: number, texts: readonly (string | null)[]): void {
    this.summaries[column].addTexts(texts);
    this.output.appendTexts(column, texts, 'values');
  }

  /** The texts of a number column's cells, kept aside until the column turns or the table ends. */
  shadow(column: number, texts: readonly (string | null)[]): void {
    (this.shadowSummaries[column] ??= new ColumnSummarizer()).addTexts(texts);
    this.output.appendTexts(column, texts, 'shadow');
  }

  /**
   * A number column turns into text: its numbers so far are dropped and `earlier` supplies the
   * texts of every cell before the current batch's next one, in order, in as many calls of `emit`
   * as it likes (the reader reads them back from the input).
   */
  turn(column: number, earlier: (emit: (texts: (string | null)[]) => void) => void): void {
    this.types[column] = 'string';
    this.output.dropNumbers(column);
    this.summaries[column] = new ColumnSummarizer();
    earlier((texts) => this.texts(column, texts));
  }

  /** A number column turns into text: the texts kept aside with shadow() become its first cells. */
  turnFromShadow(column: number): void {
    this.types[column] = 'string';
    this.output.promoteShadow(column);
    this.summaries[column] = this.shadowSummaries[column] ?? new ColumnSummarizer();
    this.shadowSummaries[column] = null;
  }

  /** Counts the rows of a batch once all its columns are written. */
  addRows(count: number): void {
    this.rows += count;
  }

  /** Whether the column has a value so far (a column of only missing cells is refused). */
  hasValue(column: number): boolean {
    return this.summaries[column].missingCount < this.rows;
  }

  finish(): ReadTable<Result> {
    const header = this.names.map((name, index): HeaderColumn => ({
      name,
      type: this.types[index],
    }));
    return {
      result: this.output.finish(this.rows, header),
      rowCount: this.rows,
      columns: header.map(({ name, type }, index) => this.summaries[index].summary(name, type)),
    };
  }
}
