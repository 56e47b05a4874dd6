import { CsvError, Options, parse } from 'csv-parse/sync';
import { FieldErrorList, MAX_LISTED_ERRORS } from '../common/field-error-list';
import { Column, DATASET_LIMITS, DatasetParseError, TabularData } from './tabular-data';

const CSV_OPTIONS = {
  bom: true,
  trim: true,
  skip_empty_lines: true,
  // Ragged rows are checked here so that all of them can be reported, not just the first.
  relax_column_count: true,
} satisfies Options;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

// Bit flags describing what a JSON column holds.
const NUMBER_CELL = 1;
const STRING_CELL = 2;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

// Thrown from csv-parse's on_record callback to stop a re-read early.
const STOP_READING = new Error('stop reading');

/** The problems of one upload, thrown as one DatasetParseError. */
class ErrorList extends FieldErrorList {
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

/**
 * Parses a CSV whose first non-blank line is the header. Fully blank lines are skipped, so a
 * single-column CSV must write a missing value as "" rather than as an empty line.
 */
export function parseCsv(content: string | Buffer): TabularData {
  const input = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const records = readCsvRecords(input);
  const errors = new ErrorList('CSV');
  if (records.length === 0) {
    errors.add('body', 'the CSV is empty: send a header row then data rows');
    throw errors.toError();
  }

  const header = records[0];
  const headerLine = lineNumbers(input, [firstContentByte(input, 0)])[0];
  if (header.length > DATASET_LIMITS.maxColumns) {
    errors.add(`line ${headerLine}`, tooManyColumnsMessage('the header row', header.length));
    throw errors.toError();
  }
  checkColumnNames(header, (index) => `line ${headerLine}, column ${index + 1}`, errors);
  errors.throwIfAny();
  if (records.length === 1) {
    errors.add(
      `line ${headerLine}`,
      `the CSV has a header row (line ${headerLine}) but no data rows: add one line per example below the header`,
    );
    throw errors.toError();
  }

  const width = header.length;
  let raggedRows = 0;
  for (let i = 1; i < records.length; i++) {
    if (records[i].length !== width) raggedRows++;
  }
  if (raggedRows > 0) {
    reportRaggedRows(input, width, raggedRows, errors);
    throw errors.toError();
  }

  const columns: Column[] = [];
  header.forEach((name, index) => {
    const column = buildCsvColumn(name, records, index);
    if (column === null) {
      errors.add(`column ${JSON.stringify(name)}`, emptyColumnMessage(name, index));
    } else {
      columns.push(column);
    }
  });
  errors.throwIfAny();
  return { rowCount: records.length - 1, columns };
}

/** Parses `{ columns: ['a', 'b'], rows: [[1, 'x'], ...] }`; field paths are relative to that body. */
export function parseRows(columns: unknown, rows: unknown): TabularData {
  const errors = new ErrorList('rows');
  const columnList: unknown[] | null =
    Array.isArray(columns) && columns.length > 0 ? columns : null;
  const rowList: unknown[] | null = Array.isArray(rows) && rows.length > 0 ? rows : null;
  if (columnList === null) {
    errors.add(
      'columns',
      'columns must be a non-empty array of column names, e.g. ["age", "income"]',
    );
  }
  if (rowList === null) {
    errors.add(
      'rows',
      'rows must be a non-empty array of rows, each an array with one cell per column, e.g. [[31, "yes"]]',
    );
  }
  if (columnList === null || rowList === null) throw errors.toError();
  if (columnList.length > DATASET_LIMITS.maxColumns) {
    errors.add('columns', tooManyColumnsMessage('the columns list', columnList.length));
    throw errors.toError();
  }

  const names: string[] = [];
  columnList.forEach((name, index) => {
    if (typeof name === 'string') names.push(name);
    else errors.add(`columns[${index}]`, `columns[${index}] must be a string: the column name`);
  });
  if (names.length === columnList.length) {
    checkColumnNames(names, (index) => `columns[${index}]`, errors);
  }

  const width = columnList.length;
  const kinds = new Uint8Array(width);
  rowList.forEach((row, rowIndex) => {
    if (!Array.isArray(row)) {
      errors.add(
        `rows[${rowIndex}]`,
        `rows[${rowIndex}] must be an array with one cell per column (${width})`,
      );
    } else if (row.length !== width) {
      errors.add(
        `rows[${rowIndex}]`,
        `rows[${rowIndex}] has ${row.length} cells but there are ${width} columns: give every row one cell per column, using null for a missing value`,
      );
    } else {
      for (let index = 0; index < width; index++) {
        kinds[index] |= checkCell(row[index], `rows[${rowIndex}][${index}]`, errors);
      }
    }
  });
  errors.throwIfAny();

  // Every row was checked above to be an array of `width` cells.
  const cells = rowList as unknown[][];
  return buildJsonColumns(
    names,
    kinds,
    cells.length,
    (index) => `columns[${index}]`,
    errors,
    (index) => (row) => cells[row][index],
  );
}

/** Parses `{ records: [{ a: 1, b: 'x' }, ...] }`; the first record's keys define the columns. */
export function parseRecords(records: unknown): TabularData {
  const errors = new ErrorList('records');
  if (!Array.isArray(records) || records.length === 0) {
    errors.add(
      'records',
      'records must be a non-empty array of objects, one per row, e.g. [{"age": 31, "label": "yes"}]',
    );
    throw errors.toError();
  }
  const first: unknown = records[0];
  if (!isPlainObject(first)) {
    errors.add('records[0]', recordShapeMessage(0));
    throw errors.toError();
  }
  // Note JSON.parse puts integer-like keys ("1", "2") before the others, whatever their order.
  const names = Object.keys(first);
  if (names.length === 0) {
    errors.add('records[0]', 'records[0] has no keys: every record needs one key per column');
    throw errors.toError();
  }
  if (names.length > DATASET_LIMITS.maxColumns) {
    errors.add('records[0]', tooManyColumnsMessage('records[0]', names.length));
    throw errors.toError();
  }
  checkColumnNames(names, (index) => `records[0]${keyPath(names[index])}`, errors);

  const nameSet = new Set(names);
  const width = names.length;
  const kinds = new Uint8Array(width);
  records.forEach((record: unknown, recordIndex) => {
    const at = `records[${recordIndex}]`;
    if (!isPlainObject(record)) {
      errors.add(at, recordShapeMessage(recordIndex));
      return;
    }
    let missingKey = false;
    for (let index = 0; index < width; index++) {
      const name = names[index];
      if (!Object.hasOwn(record, name)) {
        missingKey = true;
        errors.add(
          `${at}${keyPath(name)}`,
          `${at} has no ${JSON.stringify(name)} key: every record needs the same keys as records[0]; use null for a missing value`,
        );
      } else {
        kinds[index] |= checkCell(record[name], `${at}${keyPath(name)}`, errors);
      }
    }
    // Only look for extra keys when the key count says there must be some.
    if (missingKey || Object.keys(record).length !== width) {
      for (const key of Object.keys(record)) {
        if (!nameSet.has(key)) {
          errors.add(
            `${at}${keyPath(key)}`,
            `${at} has the key ${JSON.stringify(key)}, which records[0] does not have: every record needs exactly the keys of records[0]; remove it or add it to every record`,
          );
        }
      }
    }
  });
  errors.throwIfAny();

  // Every record was checked above to be a plain object holding every column's key.
  const objects = records as Record<string, unknown>[];
  return buildJsonColumns(
    names,
    kinds,
    objects.length,
    (index) => `records[*]${keyPath(names[index])}`,
    errors,
    (index) => (row) => objects[row][names[index]],
  );
}

function readCsvRecords(input: Buffer): string[][] {
  try {
    return parse(input, CSV_OPTIONS);
  } catch (error) {
    if (error instanceof CsvError) throw csvSyntaxError(input, error);
    throw error;
  }
}

/** Turns csv-parse's quoting errors into messages that say where and how to fix them. */
function csvSyntaxError(input: Buffer, error: CsvError): Error {
  // `bytes` is where csv-parse last ended a field or record, so the bad field starts after it.
  const offset = typeof error.bytes === 'number' ? error.bytes : 0;
  const line = lineNumbers(input, [firstContentByte(input, offset)])[0];
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
    default:
      return error;
  }
  return new DatasetParseError(message, [{ field: `line ${line}`, message }]);
}

/**
 * Re-reads the CSV to find where the first ragged records start, stopping once enough are found.
 * This runs only on the error path because csv-parse builds a context object per record for
 * `on_record`, which would cost the happy path well over half its parse time again.
 */
function reportRaggedRows(input: Buffer, width: number, total: number, errors: ErrorList): void {
  const wanted = Math.min(total, MAX_LISTED_ERRORS);
  const starts: number[] = [];
  const fieldCounts: number[] = [];
  let recordStart = 0;
  let isHeader = true;
  try {
    parse(input, {
      ...CSV_OPTIONS,
      on_record: (record, context) => {
        if (!isHeader && record.length !== width) {
          starts.push(firstContentByte(input, recordStart));
          fieldCounts.push(record.length);
          if (starts.length === wanted) throw STOP_READING;
        }
        isHeader = false;
        recordStart = context.bytes;
        return null;
      },
    });
  } catch (error) {
    if (error !== STOP_READING) throw error;
  }
  lineNumbers(input, starts).forEach((line, index) => {
    errors.add(
      `line ${line}`,
      `line ${line} has ${fieldCounts[index]} fields but the header has ${width}: give every row one field per column (leave a field empty for a missing value, and quote fields that contain commas)`,
    );
  });
  errors.countUnlisted(total - starts.length);
}

/** Skips the blank lines and indentation that csv-parse skips before a record or field. */
function firstContentByte(input: Buffer, offset: number): number {
  let position = offset;
  while (position < input.length) {
    const byte = input[position];
    if (byte !== SPACE && byte !== TAB && byte !== CR && byte !== LF) break;
    position++;
  }
  return position;
}

/**
 * 1-based line numbers of ascending byte offsets, counting CRLF, LF and lone CR as one break.
 * Counted here because csv-parse counts a CRLF inside a quoted field as two lines.
 */
function lineNumbers(input: Buffer, offsets: readonly number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let position = 0;
  for (const offset of offsets) {
    for (; position < offset; position++) {
      const byte = input[position];
      if (byte === LF || (byte === CR && input[position + 1] !== LF)) line++;
    }
    lines.push(line);
  }
  return lines;
}

/** Tries numbers first, as most ML columns are numeric; falls back on the first non-number. */
function buildCsvColumn(name: string, records: string[][], index: number): Column | null {
  const rowCount = records.length - 1;
  const values = new Float64Array(rowCount);
  let hasValue = false;
  for (let row = 0; row < rowCount; row++) {
    const cell = records[row + 1][index];
    if (cell === '') {
      values[row] = NaN;
      continue;
    }
    const value = parseDecimal(cell);
    if (Number.isNaN(value)) return buildCsvStringColumn(name, records, index);
    values[row] = value;
    hasValue = true;
  }
  // A column with no values carries no information, so it is rejected rather than guessed at.
  return hasValue ? { name, type: 'number', values } : null;
}

function buildCsvStringColumn(name: string, records: string[][], index: number): Column {
  const rowCount = records.length - 1;
  const values = new Array<string | null>(rowCount);
  for (let row = 0; row < rowCount; row++) {
    const cell = records[row + 1][index];
    values[row] = cell === '' ? null : cell;
  }
  return { name, type: 'string', values };
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

/** Checks a JSON cell and returns what it holds; '' is missing, as an empty CSV cell is. */
function checkCell(cell: unknown, at: string, errors: ErrorList): number {
  if (cell === null || cell === '') return 0;
  if (typeof cell === 'string') return STRING_CELL;
  if (typeof cell === 'number' && Number.isFinite(cell)) return NUMBER_CELL;
  errors.add(
    at,
    `${at} is ${describeCell(cell)}: a cell must be a number, a string or null (null for a missing value)`,
  );
  return 0;
}

function describeCell(cell: unknown): string {
  if (typeof cell === 'number') return `${cell}, which is not a finite number`;
  if (typeof cell === 'boolean') return `the boolean ${cell} (send it as 0/1 or as a string)`;
  if (Array.isArray(cell)) return 'an array';
  if (typeof cell === 'object') return 'an object';
  return `of type ${typeof cell}`;
}

/** A column of numbers (and missing cells) is numeric; any string makes it a string column. */
function buildJsonColumns(
  names: string[],
  kinds: Uint8Array,
  rowCount: number,
  columnPath: (index: number) => string,
  errors: ErrorList,
  cellsOf: (index: number) => (row: number) => unknown,
): TabularData {
  names.forEach((name, index) => {
    if (kinds[index] === 0) errors.add(columnPath(index), emptyColumnMessage(name, index));
  });
  errors.throwIfAny();

  const columns = names.map((name, index): Column => {
    const cellAt = cellsOf(index);
    if (kinds[index] & STRING_CELL) {
      const values = new Array<string | null>(rowCount);
      for (let row = 0; row < rowCount; row++) {
        const cell = cellAt(row);
        values[row] =
          typeof cell === 'number'
            ? String(cell)
            : typeof cell === 'string' && cell !== ''
              ? cell
              : null;
      }
      return { name, type: 'string', values };
    }
    const values = new Float64Array(rowCount);
    for (let row = 0; row < rowCount; row++) {
      const cell = cellAt(row);
      values[row] = typeof cell === 'number' ? cell : NaN;
    }
    return { name, type: 'number', values };
  });
  return { rowCount, columns };
}

function checkColumnNames(
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

function tooManyColumnsMessage(what: string, count: number): string {
  return `${what} has ${count} columns but at most ${DATASET_LIMITS.maxColumns} are allowed: drop unused columns or split the dataset`;
}

function emptyColumnMessage(name: string, index: number): string {
  return `column ${index + 1} (${JSON.stringify(name)}) has no values, every cell is empty: remove the column or fill in at least one value`;
}

function recordShapeMessage(index: number): string {
  return `records[${index}] must be an object mapping each column name to its cell, e.g. {"age": 31}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** `.name` where that is valid JavaScript, else `["some name"]`, so paths stay unambiguous. */
function keyPath(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
