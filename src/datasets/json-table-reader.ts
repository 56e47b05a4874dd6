import { Tokenizer, TokenType } from '@streamparser/json';
import type { FieldError } from '../common/errors';
import type { ByteReader, ByteSource } from './byte-source';
import type { ColumnOutput } from './column-output';
import {
  checkRecord,
  checkRow,
  isPlainObject,
  keyPath,
  recordShapeMessage,
} from './dataset-parser';
import { ReadTable, TableColumns } from './table-columns';
import {
  checkColumnNames,
  emptyColumnMessage,
  ErrorList,
  tooManyColumnsMessage,
} from './table-checks';
import { DATASET_LIMITS } from './tabular-data';

/** Deeper than any dataset body needs (as common/strict-json.ts refuses for every JSON body). */
const MAX_DEPTH = 64;
/** Rows gathered before their cells go to the columns. */
const BATCH_ROWS = 4096;
/** Bytes handed to the tokenizer at a time. */
const READ_BYTES = 1 << 20;

export interface JsonReadOptions {
  /** A bare array is the records (a file part: what pandas' to_json(orient="records") writes). */
  bareArrayIsRecords: boolean;
  /** Refuse `__proto__` and `constructor.prototype` keys, as the app's JSON body parser does. */
  refusePrototypeKeys: boolean;
}

/** A problem of the JSON text itself, found before anything is made of the dataset. */
export type JsonMalformation =
  | { syntax: string }
  | { empty: true }
  | { prototypeKey: true }
  | { duplicateKey: string }
  | { tooDeep: true };

/** A problem of the table, as a DatasetParseError or an InvalidInputError would carry it. */
export interface TableProblem {
  message: string;
  errors?: FieldError[];
}

/**
 * What a JSON upload says, in the order the in-memory path checked it: the text, then the shape
 * of the body (an object, its keys), then the name (settled by the caller: `?name=`, a form's
 * field or file name may stand in for it), then the table.
 */
export type JsonReading<Result> =
  | { malformed: JsonMalformation }
  | {
      /** What the body is: an object, an array (records, when bareArrayIsRecords) or else. */
      top: 'object' | 'array' | 'other';
      /** Keys of the body other than name, columns, rows, records, in Object.keys order. */
      unknownKeys: string[];
      /** The body's own name, when it has one. */
      ownName?: { value: unknown };
      table: { read: ReadTable<Result> } | { problem: TableProblem };
    };

/** Where a container's values go. */
const enum Role {
  /** The body's object: its members are the dataset's parts. */
  Body,
  /** `rows` or `records` (or a bare array of records): each element is a row. */
  Rows,
  /** A value kept, one level deep (a row, `columns`, `name`): containers in it are kept empty. */
  Keep,
  /** A value only checked (JSON, keys): an empty array or object stands in for it. */
  Skip,
}

/** An object expects a key or its end, then a colon, a value, a comma or its end, a key. */
const enum Expect {
  KeyOrEnd,
  Colon,
  Value,
  CommaOrEnd,
  Key,
  ValueOrEnd,
}

interface Frame {
  isObject: boolean;
  role: Role;
  expect: Expect;
  /** Keys so far (objects only): an array while small, a Set beyond. */
  keys: string[] | Set<string> | null;
  key: string;
  /** The value of a "constructor" key: a "prototype" key in it is refused. */
  isConstructor: boolean;
  /** The container being kept (Keep), or an empty one standing in for it. */
  value: unknown[] | Record<string, unknown>;
  /** Elements so far (Rows). */
  count: number;
  /** Which array of rows (Rows). */
  member: 'rows' | 'records';
}

interface RowsMember {
  isArray: boolean;
  count: number;
  /** Byte offset of its opening bracket, to read it again once `columns` is known. */
  offset: number;
  /** Read as its rows went by (else read again at the end). */
  read: boolean;
}

/**
 * Reads a JSON dataset as its bytes arrive (over a ByteSource that grows, as csv-table-reader.ts
 * does), tokenized by @streamparser/json, checked as the app's JSON body parser and strict-json.ts
 * check a body (grammar, a key twice, nesting, prototype keys), its rows going to `output` a batch
 * at a time as parseRows/parseRecords would build them, so the table and its encoding are the same
 * byte for byte. Only one row, a batch of cells and the errors listed are held, plus `columns` and
 * `name`. `rows` sent before `columns` are checked as they go by and read again from the source at
 * the end, once the columns are known.
 */
export class JsonTableReader<Result> {
  private readonly tokenizer: Tokenizer;
  private readonly stack: Frame[] = [];
  private readonly reader: ByteReader;
  private position = 0;
  /** A byte order mark's bytes: the tokenizer skips them and counts its offsets after them. */
  private bomBytes = 0;
  private topDone = false;
  private top: 'object' | 'array' | 'other' | null = null;
  private syntax: string | null = null;
  private prototypeKey = false;
  private structure: { duplicateKey: string } | { tooDeep: true } | null = null;
  private readonly unknownKeys: Record<string, true> = {};
  private ownName: { value: unknown } | undefined;
  private columnsValue: { value: unknown } | undefined;
  private rows: RowsMember | undefined;
  private records: RowsMember | undefined;
  private sink: RowSink<Result> | null = null;
  /** Reading `rows` again (replay): the array is the top value, its end the reading's. */
  private replaying = false;
  private replayDone = false;

  constructor(
    private readonly source: ByteSource,
    private readonly output: ColumnOutput<Result>,
    private readonly options: JsonReadOptions,
  ) {
    this.reader = source.reader();
    this.tokenizer = new Tokenizer();
    this.tokenizer.onToken = ({ token, value, offset }) => this.onToken(token, value, offset);
    this.tokenizer.onError = (error) => {
      this.syntax ??= `${error.message} (not valid JSON)`;
    };
  }

  /** Whether the reading is over before the end (the text is not JSON): the rest need not come. */
  get settled(): boolean {
    return this.syntax !== null;
  }

  /** The source now holds `available` bytes; `ended`: and no more will come. */
  advance(available: number, ended: boolean): void {
    while (this.position < available && this.syntax === null) {
      const end = Math.min(available, this.position + READ_BYTES);
      const bytes = this.reader.read(this.position, end);
      if (this.position === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        this.bomBytes = 3;
      }
      this.tokenizer.write(bytes);
      this.position = end;
    }
    if (ended && this.syntax === null) {
      if (!this.tokenizer.isEnded) this.tokenizer.end();
      if (this.syntax === null && !this.topDone) this.syntax = 'Unexpected end of JSON input';
    }
  }

  finish(): JsonReading<Result> {
    if (this.syntax !== null) {
      return { malformed: this.position > 0 ? { syntax: this.syntax } : { empty: true } };
    }
    if (this.prototypeKey) return { malformed: { prototypeKey: true } };
    if (this.structure) return { malformed: this.structure };
    return {
      top: this.top!,
      unknownKeys: Object.keys(this.unknownKeys),
      ...(this.ownName ? { ownName: this.ownName } : {}),
      table: this.table(),
    };
  }

  /** The table, as DatasetsService.parseJson went on once the name was settled. */
  private table(): { read: ReadTable<Result> } | { problem: TableProblem } {
    const { records, rows } = this;
    try {
      if (records && (this.columnsValue || rows)) {
        return { problem: { message: 'Send either records or columns + rows, not both.' } };
      }
      if (records) return this.finishRecords(records);
      if (!this.columnsValue || !rows) {
        return {
          problem: {
            message: 'Send the table as columns + rows, or as records.',
            errors: [{ field: this.columnsValue ? 'rows' : 'columns', message: 'is required' }],
          },
        };
      }
      return this.finishRows(this.columnsValue.value, rows);
    } catch (error) {
      if (error instanceof TableError) return { problem: error.problem };
      throw error;
    }
  }

  private finishRows(columns: unknown, rows: RowsMember): { read: ReadTable<Result> } {
    const errors = new ErrorList('rows');
    const columnList = Array.isArray(columns) && columns.length > 0 ? columns : null;
    const hasRows = rows.isArray && rows.count > 0;
    if (columnList === null) {
      errors.add(
        'columns',
        'columns must be a non-empty array of column names, e.g. ["age", "income"]',
      );
    }
    if (!hasRows) {
      errors.add(
        'rows',
        'rows must be a non-empty array of rows, each an array with one cell per column, e.g. [[31, "yes"]]',
      );
    }
    if (columnList === null || !hasRows) throw new TableError(errors);
    if (!rows.read) {
      // `rows` came before `columns`: read it again from the source, now that they are known.
      this.startRows(columnList);
      this.replay(rows.offset);
    }
    return { read: this.sink!.finish() };
  }

  private finishRecords(records: RowsMember): { read: ReadTable<Result> } {
    if (!records.isArray || records.count === 0) {
      const errors = new ErrorList('records');
      errors.add(
        'records',
        'records must be a non-empty array of objects, one per row, e.g. [{"age": 31, "label": "yes"}]',
      );
      throw new TableError(errors);
    }
    return { read: this.sink!.finish() };
  }

  /** Starts the sink of `rows` once `columns` is known (a precondition failing throws at finish). */
  private startRows(columns: unknown[]): void {
    const errors = new ErrorList('rows');
    if (columns.length > DATASET_LIMITS.maxColumns) {
      errors.add('columns', tooManyColumnsMessage('the columns list', columns.length));
      throw new TableError(errors);
    }
    const names: string[] = [];
    columns.forEach((name, index) => {
      if (typeof name === 'string') names.push(name);
      else errors.add(`columns[${index}]`, `columns[${index}] must be a string: the column name`);
    });
    if (names.length === columns.length) {
      checkColumnNames(names, (index) => `columns[${index}]`, errors);
    }
    this.sink = new RowSink(this.output, errors, 'rows', columns.length);
    if (names.length === columns.length) this.sink.setNames(names);
  }

  /** Reads the `rows` array starting at byte `offset` again, into the sink. */
  private replay(offset: number): void {
    const again = new JsonTableReader(this.source, this.output, this.options);
    again.position = offset;
    again.sink = this.sink;
    again.replaying = true;
    const end = this.position;
    while (again.position < end && !again.replayDone && again.syntax === null) {
      const to = Math.min(end, again.position + READ_BYTES);
      again.tokenizer.write(again.reader.read(again.position, to));
      again.position = to;
    }
  }

  private onToken(token: TokenType, value: unknown, offset: number): void {
    if (this.replayDone) return;
    const parent = this.stack.length > 0 ? this.stack[this.stack.length - 1] : null;
    if (parent === null) {
      if (this.topDone) return this.fail(token, offset);
    } else if (parent.isObject) {
      switch (parent.expect) {
        case Expect.KeyOrEnd:
        case Expect.Key:
          if (token === TokenType.STRING) return this.onKey(parent, value as string);
          if (token === TokenType.RIGHT_BRACE && parent.expect === Expect.KeyOrEnd) {
            return this.close();
          }
          return this.fail(token, offset);
        case Expect.Colon:
          if (token !== TokenType.COLON) return this.fail(token, offset);
          parent.expect = Expect.Value;
          return;
        case Expect.CommaOrEnd:
          if (token === TokenType.COMMA) parent.expect = Expect.Key;
          else if (token === TokenType.RIGHT_BRACE) this.close();
          else this.fail(token, offset);
          return;
      }
    } else {
      switch (parent.expect) {
        case Expect.CommaOrEnd:
          if (token === TokenType.COMMA) parent.expect = Expect.Value;
          else if (token === TokenType.RIGHT_BRACKET) this.close();
          else this.fail(token, offset);
          return;
        case Expect.ValueOrEnd:
          if (token === TokenType.RIGHT_BRACKET) return this.close();
      }
    }
    // A value is expected.
    switch (token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        return this.open(token === TokenType.LEFT_BRACE, parent, offset);
      case TokenType.STRING:
      case TokenType.NUMBER:
      case TokenType.NULL:
        return this.completed(parent, value);
      case TokenType.TRUE:
        return this.completed(parent, true);
      case TokenType.FALSE:
        return this.completed(parent, false);
      default:
        return this.fail(token, offset);
    }
  }

  private onKey(object: Frame, key: string): void {
    object.expect = Expect.Colon;
    object.key = key;
    if (this.options.refusePrototypeKeys) {
      if (key === '__proto__' || (key === 'prototype' && object.isConstructor)) {
        this.prototypeKey = true;
      }
    }
    const keys = object.keys!;
    let seen: boolean;
    if (Array.isArray(keys)) {
      seen = keys.includes(key);
      if (!seen) {
        keys.push(key);
        if (keys.length > 16) object.keys = new Set(keys);
      }
    } else {
      seen = keys.has(key);
      keys.add(key);
    }
    if (seen) this.structure ??= { duplicateKey: key };
  }

  private open(isObject: boolean, parent: Frame | null, offset: number): void {
    if (this.stack.length === MAX_DEPTH) this.structure ??= { tooDeep: true };
    let role = Role.Skip;
    if (parent === null) {
      if (this.replaying) role = Role.Rows;
      else if (isObject) role = Role.Body;
      else if (this.options.bareArrayIsRecords) role = Role.Rows;
    } else if (parent.role === Role.Body) {
      const key = parent.key;
      if (!isObject && (key === 'rows' || key === 'records')) role = Role.Rows;
      else if (key === 'name' || key === 'columns') role = Role.Keep;
    } else if (parent.role === Role.Rows) {
      role = Role.Keep;
    }
    const opened = frame(isObject, role);
    opened.isConstructor = parent !== null && parent.isObject && parent.key === 'constructor';
    if (role === Role.Rows) {
      opened.member =
        parent === null
          ? this.replaying
            ? 'rows'
            : 'records'
          : (parent.key as 'rows' | 'records');
      this.startRowsMember(opened.member, offset);
    }
    this.stack.push(opened);
  }

  /** `rows`, `records` or a bare array of records begins. */
  private startRowsMember(which: 'rows' | 'records', offset: number): void {
    if (this.replaying) return;
    const member: RowsMember = {
      isArray: true,
      count: 0,
      offset: offset + this.bomBytes,
      read: false,
    };
    if (which === 'rows') {
      this.rows = member;
      const columns = this.columnsValue?.value;
      if (Array.isArray(columns) && columns.length > 0) {
        try {
          this.startRows(columns);
          member.read = true;
        } catch (error) {
          if (!(error instanceof TableError)) throw error;
          // Refused again at the end; the rows need not be read.
        }
      }
    } else {
      this.records = member;
      this.sink = null;
      member.read = true;
    }
  }

  private close(): void {
    const closed = this.stack.pop()!;
    const parent = this.stack.length > 0 ? this.stack[this.stack.length - 1] : null;
    if (closed.role === Role.Rows && this.replaying && parent === null) {
      this.replayDone = true;
      return;
    }
    this.completed(parent, closed.value, closed.role === Role.Rows ? closed : null);
  }

  /** A value is complete (`rows`: the rows array it closes): it goes to its parent. */
  private completed(parent: Frame | null, value: unknown, rows: Frame | null = null): void {
    if (parent === null) {
      this.topDone = true;
      this.top =
        value !== null && typeof value === 'object'
          ? Array.isArray(value)
            ? 'array'
            : 'object'
          : 'other';
      if (rows && this.records) this.records.count = rows.count;
      return;
    }
    parent.expect = Expect.CommaOrEnd;
    switch (parent.role) {
      case Role.Body:
        return this.member(parent.key, value, rows);
      case Role.Rows:
        parent.count++;
        if (this.replaying) this.sink!.row(value);
        else this.row(parent, value);
        return;
      case Role.Keep:
        if (parent.isObject) setOwn(parent.value as Record<string, unknown>, parent.key, value);
        else (parent.value as unknown[]).push(value);
        return;
      case Role.Skip:
        return;
    }
  }

  private member(key: string, value: unknown, rows: Frame | null): void {
    if (key === 'name') this.ownName = { value };
    else if (key === 'columns') this.columnsValue = { value };
    else if (key === 'rows' || key === 'records') {
      if (rows === null) this[key] = { isArray: false, count: 0, offset: 0, read: false };
      else this[key]!.count = rows.count;
    } else setOwn(this.unknownKeys, key, true);
  }

  private row(rows: Frame, value: unknown): void {
    // Malformed: nothing will be made of the rows.
    if (this.structure || this.prototypeKey) return;
    if (rows.member === 'records') {
      if (rows.count === 1) this.sink = startRecords(this.output, value);
      this.sink?.record(value);
    } else if (this.rows?.read) {
      this.sink?.row(value);
    }
  }

  private fail(token: TokenType, offset: number): void {
    this.syntax ??= `Unexpected ${TokenType[token]} token in JSON at byte ${offset}`;
    this.tokenizer.error(new Error(this.syntax));
  }
}

class TableError extends Error {
  readonly problem: TableProblem;

  constructor(errors: ErrorList) {
    const error = errors.toError();
    super(error.message);
    this.problem = { message: error.message, errors: error.errors };
  }
}

function frame(isObject: boolean, role: Role): Frame {
  return {
    isObject,
    role,
    expect: isObject ? Expect.KeyOrEnd : Expect.ValueOrEnd,
    keys: isObject ? [] : null,
    key: '',
    isConstructor: false,
    value: isObject ? {} : [],
    count: 0,
    member: 'rows',
  };
}

/** As JSON.parse sets a key: an own property, `__proto__` too. */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    object[key] = value;
  }
}

/** The sink of `records`, from its first record (null when that record refuses the table). */
function startRecords<Result>(output: ColumnOutput<Result>, first: unknown): RowSink<Result> {
  const errors = new ErrorList('records');
  if (!isPlainObject(first)) {
    errors.add('records[0]', recordShapeMessage(0));
    return RowSink.refused(output, errors);
  }
  const names = Object.keys(first);
  if (names.length === 0) {
    errors.add('records[0]', 'records[0] has no keys: every record needs one key per column');
    return RowSink.refused(output, errors);
  }
  if (names.length > DATASET_LIMITS.maxColumns) {
    errors.add('records[0]', tooManyColumnsMessage('records[0]', names.length));
    return RowSink.refused(output, errors);
  }
  checkColumnNames(names, (index) => `records[0]${keyPath(names[index])}`, errors);
  const sink = new RowSink(output, errors, 'records', names.length);
  sink.setNames(names);
  return sink;
}

/**
 * Rows checked as parseRows/parseRecords check them, their cells gathered a batch at a time into
 * the columns (number until a string cell turns a column into text, its earlier cells' texts kept
 * aside meanwhile, as JSON numbers read as text are String(number)).
 */
class RowSink<Result> {
  private names: string[] | null = null;
  private columns: TableColumns<Result> | null = null;
  private readonly kinds: Uint8Array;
  private nameSet: Set<string> = new Set();
  private batch: unknown[][] = [];
  private batched = 0;
  private index = 0;
  private refused = false;

  constructor(
    private readonly output: ColumnOutput<Result>,
    private readonly errors: ErrorList,
    private readonly shape: 'rows' | 'records',
    private readonly width: number,
  ) {
    this.kinds = new Uint8Array(width);
  }

  static refused<Result>(output: ColumnOutput<Result>, errors: ErrorList): RowSink<Result> {
    const sink = new RowSink(output, errors, 'records', 0);
    sink.refused = true;
    return sink;
  }

  setNames(names: string[]): void {
    this.names = names;
    this.nameSet = new Set(names);
    this.output.reset();
    this.columns = new TableColumns(names, this.output);
    this.batch = names.map(() => []);
  }

  row(row: unknown): void {
    if (checkRow(row, this.index++, this.width, this.kinds, this.errors)) {
      this.add((index) => row[index]);
    }
  }

  record(record: unknown): void {
    if (this.refused) return;
    const names = this.names!;
    if (checkRecord(record, this.index++, names, this.nameSet, this.kinds, this.errors)) {
      this.add((index) => record[names[index]]);
    }
  }

  /** A checked row's cells, batched while no problem was found (else nothing is built). */
  private add(cellOf: (index: number) => unknown): void {
    if (this.errors.count > 0 || this.columns === null) return;
    for (let index = 0; index < this.width; index++) this.batch[index].push(cellOf(index));
    if (++this.batched === BATCH_ROWS) this.flush();
  }

  private flush(): void {
    const columns = this.columns!;
    const count = this.batched;
    if (count === 0) return;
    for (let index = 0; index < this.width; index++) {
      const cells = this.batch[index];
      const texts = cells.map(textOf);
      if (columns.types[index] === 'number' && cells.some(isTextCell)) {
        columns.turnFromShadow(index);
      }
      if (columns.types[index] === 'string') {
        columns.texts(index, texts);
      } else {
        const values = new Float64Array(count);
        for (let row = 0; row < count; row++) {
          const cell = cells[row];
          values[row] = typeof cell === 'number' ? cell : NaN;
        }
        columns.numbers(index, values, count);
        columns.shadow(index, texts);
      }
      this.batch[index] = [];
    }
    columns.addRows(count);
    this.batched = 0;
  }

  finish(): ReadTable<Result> {
    if (this.refused) throw new TableError(this.errors);
    // As parseRows/parseRecords: the rows' problems first, then the columns left empty.
    if (this.errors.count > 0) throw new TableError(this.errors);
    const names = this.names;
    if (names) {
      const columnPath =
        this.shape === 'rows'
          ? (index: number) => `columns[${index}]`
          : (index: number) => `records[*]${keyPath(names[index])}`;
      names.forEach((name, index) => {
        if (this.kinds[index] === 0)
          this.errors.add(columnPath(index), emptyColumnMessage(name, index));
      });
    }
    if (this.errors.count > 0) throw new TableError(this.errors);
    this.flush();
    return this.columns!.finish();
  }
}

function textOf(cell: unknown): string | null {
  return typeof cell === 'number'
    ? String(cell)
    : typeof cell === 'string' && cell !== ''
      ? cell
      : null;
}

function isTextCell(cell: unknown): boolean {
  return typeof cell === 'string' && cell !== '';
}
