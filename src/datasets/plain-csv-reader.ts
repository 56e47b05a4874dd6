import { BufferSource, ByteReader, ByteSource } from './byte-source';
import { ColumnOutput, MemoryColumns } from './column-output';
import { scanDecimal, scanEnd } from './decimal-scanner';
import { ReadTable, TableColumns } from './table-columns';
import { DATASET_LIMITS, TabularData } from './tabular-data';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BOM = [0xef, 0xbb, 0xbf];

/** Bytes read and parsed at a time: the batch whose multiple bounds an upload's memory. */
export const WINDOW_BYTES = 4 << 20;
/** Texts handed on at a time when a column's earlier cells are read back. */
const LOOK_BACK_TEXTS = 1 << 14;

/** The reader met something it leaves to csv-parse. */
const NOT_PLAIN = Symbol('not plain');

/**
 * Reads the common case of a CSV upload — no quotes, LF line ends, no whitespace around fields,
 * every row as wide as a valid header, every column with a value — a window of whole lines at a
 * time as the bytes arrive, numbers parsed straight from them (decimal-scanner.ts: exactly as
 * Number() reads them). `advance` returns false, and `finish` null, for anything else: the caller
 * then reads the input again from its first byte with csv-parse (csv-parse-reader.ts), which is
 * where every error is found and reported: this reader never reports one. For the inputs it
 * accepts it gives the table csv-parse's path gives, cell for cell.
 *
 * The one look back: a column that turns out to hold text after rows of numbers re-reads its
 * earlier cells' text from the source (the upload spooled to a file, or the buffer). Many columns
 * turning late would re-read the input once each: past twice the bytes read, csv-parse's path,
 * which keeps the texts of number cells aside as it goes, is cheaper.
 */
export class PlainCsvReader<Result> {
  private readonly reader: ByteReader;
  /** The first byte not yet parsed. */
  private position = 0;
  private windowBytes = WINDOW_BYTES;
  private columns: TableColumns<Result> | null = null;
  /** Per column, whether it holds text (decided for good). */
  private isText: boolean[] = [];
  /** The first byte after the header line. */
  private firstRow = 0;
  /** Bytes re-read so far by look-backs. */
  private lookedBack = 0;
  /** Where the window being read ends in the source. */
  private windowEnd = 0;
  /** Per column, the array its window's numbers are read into. */
  private readonly numberBatches: (Float64Array | undefined)[] = [];

  constructor(
    private readonly source: ByteSource,
    private readonly output: ColumnOutput<Result>,
  ) {
    this.reader = source.reader();
  }

  /**
   * Parses the whole lines among the first `available` bytes of the source, waiting for a full
   * window unless `ended` (then every byte is read); false once the input is not plain.
   */
  advance(available: number, ended: boolean): boolean {
    for (;;) {
      const remaining = available - this.position;
      if (remaining <= 0 || (!ended && remaining < this.windowBytes)) return true;
      const length = Math.min(remaining, this.windowBytes);
      const bytes = this.reader.read(this.position, this.position + length);
      if (bytes.indexOf(QUOTE) !== -1 || bytes.indexOf(CR) !== -1) return false;
      const end = ended && length === remaining ? length : bytes.lastIndexOf(LF) + 1;
      if (end === 0) {
        // No line ends in the window: a longer one, up to the longest row csv-parse accepts.
        if (this.windowBytes > DATASET_LIMITS.maxRowLength) return false;
        this.windowBytes *= 2;
        continue;
      }
      const read = this.columns ? this.readRows(bytes, end) : this.readHeader(bytes, end);
      if (read === NOT_PLAIN) return false;
      this.position += read;
    }
  }

  /** The table, or null when it has no rows or a column with no value (errors for csv-parse). */
  finish(): ReadTable<Result> | null {
    const { columns } = this;
    if (!columns || columns.rowCount === 0) return null;
    for (let column = 0; column < columns.names.length; column++) {
      if (!columns.hasValue(column)) return null;
    }
    return columns.finish();
  }

  /** Reads the header's names from the window's start; how many bytes it took, or NOT_PLAIN. */
  private readHeader(bytes: Buffer, end: number): number | typeof NOT_PLAIN {
    let start = this.position === 0 && startsWithBom(bytes) ? BOM.length : 0;
    while (start < end && bytes[start] === LF) start++;
    if (start === end) return end; // blank lines so far
    const headerEnd = lineEnd(bytes, start, end);
    const names = readNames(bytes, start, headerEnd);
    if (names === null) return NOT_PLAIN;
    this.columns = new TableColumns(names, this.output);
    this.isText = names.map(() => false);
    const read = Math.min(end, headerEnd + 1);
    this.firstRow = this.position + read;
    return read;
  }

  /** Reads the lines in [0, end) of the window into a batch; the bytes read, or NOT_PLAIN. */
  private readRows(input: Buffer, end: number): number | typeof NOT_PLAIN {
    const columns = this.columns!;
    const { isText } = this;
    const width = isText.length;
    const firstRowOfBatch = columns.rowCount;
    this.windowEnd = this.position + end;
    let capacity = estimateRows(input, end, width);
    const numbers = isText.map((text, column) =>
      text ? null : this.batchNumbers(column, capacity),
    );
    const texts = isText.map((text) => (text ? ([] as (string | null)[]) : null));
    let row = 0;
    let position = 0;
    while (position < end) {
      if (input[position] === LF) {
        position++; // a blank line, skipped as csv-parse skips it
        continue;
      }
      if (row === capacity) {
        capacity *= 2;
        numbers.forEach((values, column) => {
          if (values === null) return;
          const grown = this.batchNumbers(column, capacity);
          grown.set(values);
          numbers[column] = grown;
        });
      }
      for (let column = 0; column < width; column++) {
        const fieldStart = position;
        let fieldEnd: number;
        const values = numbers[column];
        if (values !== null) {
          const value = scanDecimal(input, position, end);
          // A finite number followed by the field's end (Infinity - Infinity is NaN).
          if (
            value - value === 0 &&
            (scanEnd === end || input[scanEnd] === COMMA || input[scanEnd] === LF)
          ) {
            values[row] = value;
            fieldEnd = scanEnd;
          } else {
            fieldEnd = fieldEndFrom(input, position, end);
            if (fieldEnd === fieldStart) {
              values[row] = NaN;
            } else {
              const text = plainText(input, fieldStart, fieldEnd);
              if (text === null) return NOT_PLAIN;
              if (!this.turn(column, firstRowOfBatch + row, this.position + fieldStart)) {
                return NOT_PLAIN;
              }
              numbers[column] = null;
              texts[column] = [text];
              isText[column] = true;
            }
          }
        } else {
          fieldEnd = fieldEndFrom(input, position, end);
          const columnTexts = texts[column]!;
          if (fieldEnd === fieldStart) {
            columnTexts.push(null);
          } else {
            const text = plainText(input, fieldStart, fieldEnd);
            if (text === null) return NOT_PLAIN;
            columnTexts.push(text);
          }
        }
        // A row must end exactly at its last field: otherwise it is ragged.
        const delimiter = fieldEnd < end ? input[fieldEnd] : LF;
        if (delimiter !== (column === width - 1 ? LF : COMMA)) return NOT_PLAIN;
        position = fieldEnd + 1;
      }
      row++;
    }
    for (let column = 0; column < width; column++) {
      const values = numbers[column];
      if (values !== null) columns.numbers(column, values, row);
      else columns.texts(column, texts[column]!);
    }
    columns.addRows(row);
    return end;
  }

  /**
   * A number column's array for a window's values, of at least `capacity`: the same one window
   * after window (what the output needs of a window, it copies), a new one only when it grows.
   */
  private batchNumbers(column: number, capacity: number): Float64Array {
    const kept = this.numberBatches[column];
    if (kept && kept.length >= capacity) return kept;
    return (this.numberBatches[column] = new Float64Array(capacity));
  }

  /**
   * Turns a number column into text at row `row` (whose field starts at byte `at`), its earlier
   * cells' texts read back from the source; false when the look-backs have cost too much.
   */
  private turn(column: number, row: number, at: number): boolean {
    this.lookedBack += at - this.firstRow;
    // Twice the bytes read so far (for an input read in one window, twice its size).
    if (this.lookedBack > 2 * this.windowEnd) return false;
    const window = { start: this.firstRow, end: at, bytes: this.windowBytes };
    this.columns!.turn(column, (emit) =>
      readColumnTexts(this.source.reader(), window, column, row, emit),
    );
    return true;
  }
}

/**
 * Reads a plain CSV held in memory; null when it is not plain (see PlainCsvReader). parseCsv
 * reads through csv-table-reader.ts, which tries this reader first.
 */
export function readPlainCsv(input: Buffer): TabularData | null {
  const reader = new PlainCsvReader(new BufferSource(input), new MemoryColumns());
  if (!reader.advance(input.length, true)) return null;
  return reader.finish()?.result ?? null;
}

/**
 * The texts of a column's cells in the first `rows` rows of the bytes [span.start, span.end),
 * read `span.bytes` at a time (enough for any of those rows), handed to `emit` a slice at a time.
 * PlainCsvReader read those rows before, so they are plain and each ends in a line feed.
 */
function readColumnTexts(
  reader: ByteReader,
  span: { start: number; end: number; bytes: number },
  column: number,
  rows: number,
  emit: (texts: (string | null)[]) => void,
): void {
  let texts: (string | null)[] = [];
  let done = 0;
  let windowStart = span.start;
  while (done < rows) {
    const bytes = reader.read(windowStart, Math.min(span.end, windowStart + span.bytes));
    // Whole lines only: the window ends after its last line feed.
    const end = bytes.lastIndexOf(LF) + 1;
    if (end === 0) throw new Error('a row read before has no line end');
    let position = 0;
    while (done < rows && position < end) {
      if (bytes[position] === LF) {
        position++;
        continue;
      }
      for (let skipped = 0; skipped < column; skipped++) {
        position = bytes.indexOf(COMMA, position) + 1;
      }
      const fieldEnd = fieldEndFrom(bytes, position, end);
      texts.push(fieldEnd === position ? null : bytes.toString('utf8', position, fieldEnd));
      done++;
      if (texts.length === LOOK_BACK_TEXTS) {
        emit(texts);
        texts = [];
      }
      position = lineEnd(bytes, fieldEnd, end) + 1;
    }
    windowStart += end;
  }
  if (texts.length > 0) emit(texts);
}

/** The header's names, or null when one is not plain or the header would be refused. */
function readNames(input: Buffer, start: number, end: number): string[] | null {
  if (start >= end) return null;
  const names: string[] = [];
  const seen = new Set<string>();
  let position = start;
  for (;;) {
    const fieldEnd = fieldEndFrom(input, position, end);
    const name = fieldEnd === position ? null : plainText(input, position, fieldEnd);
    if (name === null) return null;
    if (name.length > DATASET_LIMITS.maxColumnNameLength || seen.has(name)) return null;
    seen.add(name);
    names.push(name);
    if (names.length > DATASET_LIMITS.maxColumns) return null;
    if (fieldEnd === end) return names;
    position = fieldEnd + 1;
  }
}

/** Where the field starting at `start` ends: at the next comma or line feed, or at `end`. */
function fieldEndFrom(input: Buffer, start: number, end: number): number {
  let position = start;
  while (position < end) {
    const byte = input[position];
    if (byte === COMMA || byte === LF) return position;
    position++;
  }
  return end;
}

function lineEnd(input: Buffer, start: number, end: number): number {
  const found = input.indexOf(LF, start);
  return found === -1 || found > end ? end : found;
}

/** Unicode white space, which csv-parse trims from field edges (its list is a subset of \s). */
const EDGE_SPACE = /^\s|\s$/;

/**
 * The field's text, or null when csv-parse's trimming could change it: an edge byte that is a
 * space or control character, or a character beyond ASCII that is white space.
 */
function plainText(input: Buffer, start: number, end: number): string | null {
  const first = input[start];
  const last = input[end - 1];
  if (first <= 0x20 || last <= 0x20) return null;
  const text = input.toString('utf8', start, end);
  return (first < 0x80 && last < 0x80) || !EDGE_SPACE.test(text) ? text : null;
}

function startsWithBom(input: Buffer): boolean {
  return input.length >= 3 && input[0] === BOM[0] && input[1] === BOM[1] && input[2] === BOM[2];
}

/**
 * About how many rows [0, end) holds, from the length of its first line; at most one per two bytes
 * a field, so that a short first line cannot reserve columns far larger than the window.
 */
function estimateRows(input: Buffer, end: number, width: number): number {
  let first = 0;
  while (first < end && input[first] === LF) first++;
  const firstLine = lineEnd(input, first, end) - first + 1;
  const estimate = Math.ceil((end / firstLine) * 1.05);
  return Math.min(estimate, Math.ceil(end / (2 * width))) + 16;
}
