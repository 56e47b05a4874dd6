import { CsvError, Options, parse } from 'csv-parse';
import { MAX_LISTED_ERRORS } from '../common/field-error-list';
import { ByteReader, ByteSource, firstContentByte, lineNumbers } from './byte-source';
import type { ColumnOutput } from './column-output';
import { WINDOW_BYTES } from './plain-csv-reader';
import { ReadTable, TableColumns } from './table-columns';
import {
  checkColumnNames,
  emptyColumnMessage,
  ErrorList,
  tooManyColumnsMessage,
} from './table-checks';
import { DATASET_LIMITS, DatasetParseError } from './tabular-data';

const CSV_OPTIONS = {
  bom: true,
  trim: true,
  skip_empty_lines: true,
  // Ragged rows are checked here so that all of them can be reported, not just the first.
  relax_column_count: true,
  max_record_size: DATASET_LIMITS.maxRowLength,
} satisfies Options;

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * csv-parse's parser core, which its stream and sync APIs both drive: fed a chunk at a time, it
 * pushes each record as it completes, and `info.bytes` is then where the record ended. Driven
 * directly so that a thread can feed it synchronously without a stream's buffering.
 */
interface CsvParseCore {
  parse(
    chunk: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
  info: { bytes: number };
}

function csvParseCore(): CsvParseCore {
  const core = (parse(CSV_OPTIONS) as unknown as { api?: CsvParseCore }).api;
  if (typeof core?.parse !== 'function') {
    throw new Error('csv-parse no longer exposes its parser core as Parser#api');
  }
  return core;
}

/**
 * Reads any CSV, a window of bytes at a time, with csv-parse: what the plain reader leaves
 * (quotes, CR line ends, whitespace to trim) and every error, reported as parseCsv always has —
 * a syntax error (a bad quote, a row over DATASET_LIMITS.maxRowLength) as soon as it is met, the
 * rest once the input ends: an empty CSV, the header's problems, no data rows, every ragged row
 * (the first MAX_LISTED_ERRORS located by line), columns with no value, in that order.
 *
 * Memory: one window, the records of one window as a batch, and per number column the texts of
 * its batch cells, kept aside (TableColumns.shadow) so that a column turning into text needs no
 * look back; the first ragged rows' offsets.
 */
export class CsvParseReader<Result> {
  private readonly core = csvParseCore();
  private readonly reader: ByteReader;
  private position = 0;
  private header: string[] | null = null;
  private columns: TableColumns<Result> | null = null;
  private dataRecords = 0;
  /** Where the record being read starts (before csv-parse skips blank lines and indentation). */
  private recordStart = 0;
  private raggedRows = 0;
  private readonly raggedStarts: number[] = [];
  private readonly raggedWidths: number[] = [];
  private batch: CellBatch | null = null;

  constructor(
    private readonly source: ByteSource,
    private readonly output: ColumnOutput<Result>,
  ) {
    this.reader = source.reader();
  }

  /** Parses the first `available` bytes (in windows; the last partial one only once `ended`). */
  advance(available: number, ended: boolean): void {
    while (available - this.position >= (ended ? 1 : WINDOW_BYTES)) {
      const end = Math.min(available, this.position + WINDOW_BYTES);
      // A copy: csv-parse keeps the unfinished end of a chunk until the next one.
      this.feed(Buffer.from(this.reader.read(this.position, end)), false, available);
      this.position = end;
    }
    if (ended) this.feed(undefined, true, available);
  }

  /** The table, or the errors found once the whole input was read. */
  finish(size: number): ReadTable<Result> {
    const errors = new ErrorList('CSV');
    const { header, columns } = this;
    if (header === null) {
      errors.add('body', 'the CSV is empty: send a header row then data rows');
      throw errors.toError();
    }
    const headerLine = lineNumbers(this.source, [firstContentByte(this.source, 0, size)], size)[0];
    if (header.length > DATASET_LIMITS.maxColumns) {
      errors.add(`line ${headerLine}`, tooManyColumnsMessage('the header row', header.length));
      throw errors.toError();
    }
    checkColumnNames(header, (index) => `line ${headerLine}, column ${index + 1}`, errors);
    errors.throwIfAny();
    if (this.dataRecords === 0) {
      errors.add(
        `line ${headerLine}`,
        `the CSV has a header row (line ${headerLine}) but no data rows: add one line per example below the header`,
      );
      throw errors.toError();
    }
    if (this.raggedRows > 0) {
      const starts = this.raggedStarts.map((start) => firstContentByte(this.source, start, size));
      lineNumbers(this.source, starts, size).forEach((line, index) => {
        errors.add(
          `line ${line}`,
          `line ${line} has ${this.raggedWidths[index]} fields but the header has ${header.length}: give every row one field per column (leave a field empty for a missing value, and quote fields that contain commas)`,
        );
      });
      errors.countUnlisted(this.raggedRows - starts.length);
      throw errors.toError();
    }
    header.forEach((name, index) => {
      if (!columns!.hasValue(index)) {
        errors.add(`column ${JSON.stringify(name)}`, emptyColumnMessage(name, index));
      }
    });
    errors.throwIfAny();
    return columns!.finish();
  }

  private feed(chunk: Buffer | undefined, end: boolean, size: number): void {
    const error = this.core.parse(chunk, end, (record) => this.onRecord(record), noop);
    if (error !== undefined) {
      if (error instanceof CsvError) throw this.syntaxError(error, size);
      throw error;
    }
    this.flush();
  }

  private onRecord(record: string[]): void {
    const start = this.recordStart;
    this.recordStart = this.core.info.bytes;
    if (this.header === null) {
      this.header = record;
      if (isAcceptableHeader(record)) this.columns = new TableColumns(record, this.output);
      return;
    }
    this.dataRecords++;
    if (record.length !== this.header.length) {
      this.raggedRows++;
      if (this.raggedStarts.length < MAX_LISTED_ERRORS) {
        this.raggedStarts.push(start);
        this.raggedWidths.push(record.length);
      }
      return;
    }
    // Once the table is refused, its rows are only checked.
    if (this.columns && this.raggedRows === 0) this.addRow(this.columns, record);
  }

  /** Tries numbers first, as most ML columns are numeric; a column turns on its first non-number. */
  private addRow(columns: TableColumns<Result>, record: string[]): void {
    const batch = (this.batch ??= new CellBatch(columns.types));
    const row = batch.rows;
    if (row === batch.capacity) batch.grow();
    for (let index = 0; index < record.length; index++) {
      const cell = record[index];
      const numbers = batch.numbers[index];
      if (numbers === null) {
        batch.texts[index]!.push(cell === '' ? null : cell);
        continue;
      }
      if (cell === '') {
        numbers[row] = NaN;
        batch.shadows[index]!.push(null);
        continue;
      }
      const value = parseDecimal(cell);
      if (Number.isNaN(value)) {
        // The column holds text: its cells so far are the texts kept aside, then this batch's.
        columns.turnFromShadow(index);
        const texts = batch.shadows[index]!;
        texts.push(cell);
        batch.texts[index] = texts;
        batch.shadows[index] = null;
        batch.numbers[index] = null;
        continue;
      }
      numbers[row] = value;
      batch.shadows[index]!.push(cell);
    }
    batch.rows++;
  }

  private flush(): void {
    const { batch, columns } = this;
    if (!batch || !columns || batch.rows === 0) return;
    batch.numbers.forEach((numbers, index) => {
      if (numbers === null) {
        columns.texts(index, batch.texts[index]!);
      } else {
        columns.numbers(index, numbers, batch.rows);
        columns.shadow(index, batch.shadows[index]!);
      }
    });
    columns.addRows(batch.rows);
    this.batch = new CellBatch(columns.types, batch.capacity);
  }

  /** csv-parse's quoting and size errors, as messages that say where and how to fix them. */
  private syntaxError(error: CsvError, size: number): Error {
    // `bytes` is where csv-parse last ended a field or record, so the bad field starts after it.
    const offset = typeof error.bytes === 'number' ? error.bytes : 0;
    const at = firstContentByte(this.source, offset, size);
    const line = lineNumbers(this.source, [at], size)[0];
    let message: string;
    switch (error.code) {
      case 'CSV_QUOTE_NOT_CLOSED':
        message = `a quoted field starting on line ${line} is never closed: add the closing " (and write "" for a quote inside a quoted field)`;
        break;
      case 'INVALID_OPENING_QUOTE':
        message = `a field on line ${line} contains a " but does not start with one: wrap the whole field in quotes and double the inner quote, e.g. "5"" screen"`;
        break;
      case 'CSV_INVALID_CLOSING_QUOTE':
      case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
        message = `a quoted field starting on line ${line} has text after its closing quote: put a comma or line break right after the closing ", and write "" for a quote inside the field`;
        break;
      case 'CSV_MAX_RECORD_SIZE':
        message = `the row on line ${line} is longer than ${DATASET_LIMITS.maxRowLength} characters: check that the file is a CSV (commas between fields, a line break after each row), or shorten the long text`;
        break;
      default:
        return error;
    }
    return new DatasetParseError(message, [{ field: `line ${line}`, message }]);
  }
}

/** The cells of a batch of rows, by column: numbers (and their texts kept aside) or texts. */
class CellBatch {
  rows = 0;
  readonly numbers: (Float64Array | null)[];
  readonly texts: ((string | null)[] | null)[];
  readonly shadows: ((string | null)[] | null)[];

  constructor(
    types: readonly string[],
    public capacity = 1024,
  ) {
    this.numbers = types.map((type) => (type === 'number' ? new Float64Array(capacity) : null));
    this.texts = types.map((type) => (type === 'number' ? null : []));
    this.shadows = types.map((type) => (type === 'number' ? [] : null));
  }

  grow(): void {
    this.capacity *= 2;
    this.numbers.forEach((values, index) => {
      if (values === null) return;
      const grown = new Float64Array(this.capacity);
      grown.set(values);
      this.numbers[index] = grown;
    });
  }
}

/** Whether the header row would pass parseCsv's checks (finish() reports them with line numbers). */
function isAcceptableHeader(header: string[]): boolean {
  if (header.length > DATASET_LIMITS.maxColumns) return false;
  const errors = new ErrorList('CSV');
  checkColumnNames(header, () => '', errors);
  return errors.count === 0;
}

/**
 * The value of a finite decimal literal such as `1`, `-2.5`, `1e3`, `.5` or `+4.`, else NaN.
 * Number() alone also accepts `0x10`, `0b1`, `Infinity` and surrounding whitespace, which the
 * first/last character checks rule out without a regex.
 */
function parseDecimal(text: string): number {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (!((last >= ZERO && last <= NINE) || last === DOT)) return NaN;
  if (!((first >= ZERO && first <= NINE) || first === DOT || first === MINUS || first === PLUS)) {
    return NaN;
  }
  if (first === ZERO && text.length > 2) {
    const second = text.charCodeAt(1) | 0x20; // lower-cased
    if (second === 0x62 || second === 0x6f || second === 0x78) return NaN; // 0b, 0o, 0x
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : NaN;
}

function noop(): void {}
