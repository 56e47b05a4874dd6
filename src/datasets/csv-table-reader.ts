import type { ByteSource } from './byte-source';
import type { ColumnOutput } from './column-output';
import { CsvParseReader } from './csv-parse-reader';
import { PlainCsvReader } from './plain-csv-reader';
import type { ReadTable } from './table-columns';

/**
 * Reads a CSV as its bytes arrive: with the plain reader while the input is plain, else (and for
 * every error) with csv-parse from the first byte again, into `output`. Call `advance` as the
 * source grows, then `finish`; both throw DatasetParseError for a bad CSV.
 */
export class CsvTableReader<Result> {
  private plain: PlainCsvReader<Result> | null;
  private csvParse: CsvParseReader<Result> | null = null;
  private available = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly output: ColumnOutput<Result>,
  ) {
    this.plain = new PlainCsvReader(source, output);
  }

  /** The source now holds `available` bytes; `ended`: and no more will come. */
  advance(available: number, ended: boolean): void {
    this.available = available;
    if (this.plain?.advance(available, ended)) return;
    this.fromCsvParse().advance(available, ended);
  }

  finish(): ReadTable<Result> {
    if (this.plain) {
      const table = this.plain.finish();
      if (table) return table;
      this.fromCsvParse().advance(this.available, true);
    }
    return this.fromCsvParse().finish(this.available);
  }

  private fromCsvParse(): CsvParseReader<Result> {
    if (!this.csvParse) {
      this.plain = null;
      this.output.reset();
      this.csvParse = new CsvParseReader(this.source, this.output);
    }
    return this.csvParse;
  }
}
