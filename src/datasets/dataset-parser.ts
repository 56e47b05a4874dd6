import { BufferSource } from './byte-source';
import { MemoryColumns } from './column-output';
import { CsvTableReader } from './csv-table-reader';
import {
  checkColumnNames,
  emptyColumnMessage,
  ErrorList,
  tooManyColumnsMessage,
} from './table-checks';
import { Column, DATASET_LIMITS, TabularData } from './tabular-data';

// Bit flags describing what a JSON column holds.
const NUMBER_CELL = 1;
const STRING_CELL = 2;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Parses a CSV whose first non-blank line is the header. Fully blank lines are skipped, so a
 * single-column CSV must write a missing value as "" rather than as an empty line.
 *
 * The reader an upload streams through (csv-table-reader.ts), over bytes in memory: the common
 * case (no quotes, LF line ends, nothing to trim, no error) in one pass over the bytes, anything
 * else, and every error, through csv-parse, so both give the same table.
 */
export function parseCsv(content: string | Buffer): TabularData {
  const input = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const reader = new CsvTableReader(new BufferSource(input), new MemoryColumns());
  reader.advance(input.length, true);
  return reader.finish().result;
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
    checkRow(row, rowIndex, width, kinds, errors);
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
    checkRecord(record, recordIndex, names, nameSet, kinds, errors);
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

/**
 * Checks one of `rows` against the `width` columns, adding what each cell holds to `kinds`; true
 * when it is an array of one cell per column, its cells then fit to read.
 */
export function checkRow(
  row: unknown,
  rowIndex: number,
  width: number,
  kinds: Uint8Array,
  errors: ErrorList,
): row is unknown[] {
  if (!Array.isArray(row)) {
    errors.add(
      `rows[${rowIndex}]`,
      `rows[${rowIndex}] must be an array with one cell per column (${width})`,
    );
    return false;
  }
  if (row.length !== width) {
    errors.add(
      `rows[${rowIndex}]`,
      `rows[${rowIndex}] has ${row.length} cells but there are ${width} columns: give every row one cell per column, using null for a missing value`,
    );
    return false;
  }
  for (let index = 0; index < width; index++) {
    kinds[index] |= checkCell(row[index], `rows[${rowIndex}][${index}]`, errors);
  }
  return true;
}

/**
 * Checks one of `records` against the keys of records[0] (`names`), adding what each cell holds
 * to `kinds`; true when it is an object with exactly those keys, its cells then fit to read.
 */
export function checkRecord(
  record: unknown,
  recordIndex: number,
  names: readonly string[],
  nameSet: ReadonlySet<string>,
  kinds: Uint8Array,
  errors: ErrorList,
): record is Record<string, unknown> {
  const at = `records[${recordIndex}]`;
  if (!isPlainObject(record)) {
    errors.add(at, recordShapeMessage(recordIndex));
    return false;
  }
  let missingKey = false;
  for (let index = 0; index < names.length; index++) {
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
  if (!missingKey && Object.keys(record).length === names.length) return true;
  for (const key of Object.keys(record)) {
    if (!nameSet.has(key)) {
      errors.add(
        `${at}${keyPath(key)}`,
        `${at} has the key ${JSON.stringify(key)}, which records[0] does not have: every record needs exactly the keys of records[0]; remove it or add it to every record`,
      );
    }
  }
  return false;
}

/** Checks a JSON cell and returns what it holds; '' is missing, as an empty CSV cell is. */
export function checkCell(cell: unknown, at: string, errors: ErrorList): number {
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

export function recordShapeMessage(index: number): string {
  return `records[${index}] must be an object mapping each column name to its cell, e.g. {"age": 31}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** `.name` where that is valid JavaScript, else `["some name"]`, so paths stay unambiguous. */
export function keyPath(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
