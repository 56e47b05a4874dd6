/**
 * Logged requests (prediction_log's `inputs` and `outputs` JSON) → one LiveColumn per feature and
 * one for the predictions, values appended straight into growing typed arrays.
 *
 * Stored shapes (written by the prediction log):
 * - v1 inputs `{ "instances": [...], "truncatedRows"? }`: rows as arrays in feature order, or
 *   objects keyed by feature name; null is missing. Outputs `{ "predictions": [...], … }`.
 * - v2 inputs `{ "inputs": [{ name, shape, datatype, data }] }`: one tensor per feature ([N] or
 *   [N, 1]), or one 2-D tensor [N, features] in feature order; a tensor kept as a `digest` has no
 *   data and its request is skipped. Outputs `{ "outputs": [tensor...] }`.
 */
import type { LiveColumn } from '../ml/drift';

export type ColumnKind = 'number' | 'string';

export interface DriftFeature {
  name: string;
  kind: ColumnKind;
}

export interface LiveLayout {
  features: DriftFeature[];
  /** How the reference profiled the predictions; null: no predictions column. */
  predictionKind: ColumnKind | null;
  /** v2 output names that hold the predictions, in order of preference (the target's, `predict`). */
  predictionOutputs: string[];
}

interface Tensor {
  name?: unknown;
  shape?: unknown;
  data?: unknown;
}

type Appender = (value: unknown) => void;

class NumberColumn {
  private values = new Float64Array(1024);
  length = 0;

  readonly push: Appender = (value) => {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] =
      typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : NaN;
  };

  /** Appends `rows` values of `source`, column `j` of rows `width` wide. */
  appendColumn(source: Float64Array, rows: number, width: number, j: number): void {
    if (this.length + rows > this.values.length) {
      const grown = new Float64Array(Math.max(this.values.length * 2, this.length + rows));
      grown.set(this.values.subarray(0, this.length));
      this.values = grown;
    }
    const { values } = this;
    let at = this.length;
    for (let i = 0, k = j; i < rows; i++, k += width) values[at++] = source[k];
    this.length = at;
  }

  column(): LiveColumn {
    return { kind: 'number', values: this.values.slice(0, this.length) };
  }
}

class StringColumn {
  private readonly values: (string | null)[] = [];

  readonly push: Appender = (value) => {
    this.values.push(
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : null,
    );
  };

  get length(): number {
    return this.values.length;
  }

  column(): LiveColumn {
    return { kind: 'string', values: this.values };
  }
}

type Column = NumberColumn | StringColumn;

const makeColumn = (kind: ColumnKind): Column =>
  kind === 'number' ? new NumberColumn() : new StringColumn();

export class LiveColumnsBuilder {
  private readonly columns: Column[];
  private readonly predictionColumn: Column | null;
  private readonly names: string[];
  private rowCount = 0;
  private skippedCount = 0;
  /** The v1 fast path's rows before they are appended (all features numbers), else null. */
  private readonly scanned: NumberRows | null;
  private scannedPredictions: NumberRows | null = null;

  constructor(private readonly layout: LiveLayout) {
    this.columns = layout.features.map((feature) => makeColumn(feature.kind));
    const numeric = layout.features.every((feature) => feature.kind === 'number');
    this.scanned = numeric ? new NumberRows(layout.features.length) : null;
    this.names = layout.features.map((feature) => feature.name);
    this.predictionColumn = layout.predictionKind ? makeColumn(layout.predictionKind) : null;
  }

  /** Rows read so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Logged requests whose inputs could not be read (digests, or a layout that fits no feature). */
  get skipped(): number {
    return this.skippedCount;
  }

  /** Adds one logged request; a malformed entry is skipped, never thrown. */
  add(route: string, inputs: string, outputs: string): void {
    let rows: number;
    try {
      rows = route === 'v2' ? this.addTensors(inputs) : this.addInstances(inputs);
    } catch {
      rows = 0;
    }
    if (rows === 0) {
      this.skippedCount++;
      return;
    }
    this.rowCount += rows;
    if (this.predictionColumn) this.addPredictions(route, outputs, rows);
  }

  features(): LiveColumn[] {
    return this.columns.map((column) => column.column());
  }

  predictions(): LiveColumn | null {
    return this.predictionColumn?.column() ?? null;
  }

  private addInstances(text: string): number {
    const { scanned } = this;
    if (scanned && scanned.worthScanning() && scanned.scan(text, INSTANCES_PREFIX)) {
      return this.appendScanned(scanned);
    }
    const { instances } = JSON.parse(text) as { instances?: unknown };
    if (!Array.isArray(instances)) return 0;
    if (scanned) {
      scanned.take(instances, this.names);
      return this.appendScanned(scanned);
    }
    const { columns, names } = this;
    const width = columns.length;
    let rows = 0;
    for (const row of instances) {
      if (Array.isArray(row)) {
        for (let j = 0; j < width; j++) columns[j].push(row[j]);
      } else if (typeof row === 'object' && row !== null) {
        const record = row as Record<string, unknown>;
        for (let j = 0; j < width; j++) columns[j].push(record[names[j]]);
      } else {
        continue;
      }
      rows++;
    }
    return rows;
  }

  /** Appends the rows `scanned` holds to the (number) columns. */
  private appendScanned(scanned: NumberRows): number {
    const columns = this.columns as NumberColumn[];
    for (let j = 0; j < columns.length; j++) {
      columns[j].appendColumn(scanned.values, scanned.rows, scanned.width, j);
    }
    return scanned.rows;
  }

  private addTensors(text: string): number {
    const { inputs } = JSON.parse(text) as { inputs?: unknown };
    if (!Array.isArray(inputs)) return 0;
    const tensors = inputs as Tensor[];
    const { columns, names } = this;
    const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
    if (names.every((name) => Array.isArray(byName.get(name)?.data))) {
      const data = names.map((name) => flat(byName.get(name)?.data as unknown[]));
      const rows = Math.min(...data.map((values) => values.length));
      data.forEach((values, j) => {
        for (let i = 0; i < rows; i++) columns[j].push(values[i]);
      });
      return rows;
    }
    const width = columns.length;
    const [matrix] = tensors;
    const shape = matrix?.shape;
    if (
      tensors.length !== 1 ||
      !Array.isArray(matrix.data) ||
      !Array.isArray(shape) ||
      shape.length !== 2 ||
      shape[1] !== width
    ) {
      return 0;
    }
    const values = flat(matrix.data);
    const rows = Math.floor(values.length / width);
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < width; j++, k++) columns[j].push(values[k]);
    }
    return rows;
  }

  /** The first `rows` predictions: those of the rows whose inputs were read. */
  private addPredictions(route: string, text: string, rows: number): void {
    const column = this.predictionColumn as Column;
    if (route !== 'v2' && column instanceof NumberColumn) {
      const scanned = (this.scannedPredictions ??= new NumberRows(1));
      if (scanned.worthScanning() && scanned.scan(text, PREDICTIONS_PREFIX, false)) {
        // As below: the first `rows` predictions, missing ones where there are fewer.
        const kept = Math.min(rows, scanned.rows);
        column.appendColumn(scanned.values, kept, 1, 0);
        for (let i = kept; i < rows; i++) column.push(null);
        return;
      }
    }
    let values: unknown[] | null = null;
    try {
      const parsed = JSON.parse(text) as { predictions?: unknown; outputs?: unknown };
      if (route === 'v2') {
        const outputs = Array.isArray(parsed.outputs) ? (parsed.outputs as Tensor[]) : [];
        for (const name of this.layout.predictionOutputs) {
          const tensor = outputs.find((output) => output.name === name);
          if (Array.isArray(tensor?.data)) {
            values = flat(tensor.data);
            break;
          }
        }
      } else if (Array.isArray(parsed.predictions)) {
        values = parsed.predictions as unknown[];
      }
    } catch {
      values = null;
    }
    // Rows without a readable prediction count as missing ones, so both columns stay aligned.
    for (let i = 0; i < rows; i++) column.push(values && i < values.length ? values[i] : null);
  }
}

/** A logged value as a number column holds it: true and false are 1 and 0, the rest missing. */
function asNumber(value: unknown): number {
  return typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : NaN;
}

/** Nested data (`[[1], [2]]`) as the flat row-major list the protocol allows in its place. */
function flat(data: unknown[]): unknown[] {
  return data.length > 0 && Array.isArray(data[0]) ? data.flat(Infinity) : data;
}

const INSTANCES_PREFIX = '{"instances":[';
const PREDICTIONS_PREFIX = '{"predictions":[';
/** 10^0 … 10^22: the powers of ten a double holds exactly. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, e) => Number(`1e${e}`));
const NOT_A_NUMBER = -1;

/**
 * The v1 fast path: reads `{"instances":[[1.5,null,…],…]}` or `{"predictions":[…]}` as the log
 * writes them (JSON.stringify: no whitespace) straight into a Float64Array, with no array or
 * number object per value. Anything else (a string, an object row, whitespace, another key,
 * text that is not JSON) makes `scan` answer false, and the entry is parsed in full as before. Values read as the full parse would: null is NaN, true and false 1 and 0, a row
 * shorter than `width` ends in NaN, values beyond it are ignored.
 */
class NumberRows {
  values = new Float64Array(1024);
  rows = 0;
  private end = 0;
  private value = 0;

  /** Texts read by `scan`, and texts it gave up on (a value it could not read exactly). */
  private hits = 0;
  private misses = 0;

  constructor(readonly width: number) {}

  /**
   * Whether `scan` is worth trying: not once it mostly gives up. Values of 16 or 17 significant
   * digits (full-precision doubles) go through Number() one by one, slower than JSON.parse.
   */
  worthScanning(): boolean {
    return this.misses <= 2 * this.hits + 16;
  }

  /** Rows parsed in full (`instances`), as numbers the way NumberColumn's push reads them. */
  take(instances: unknown[], names: string[]): void {
    const { width } = this;
    this.reserve(instances.length * width);
    const { values } = this;
    let rows = 0;
    for (const row of instances) {
      const base = rows * width;
      if (Array.isArray(row)) {
        for (let j = 0; j < width; j++) values[base + j] = asNumber(row[j]);
      } else if (typeof row === 'object' && row !== null) {
        const record = row as Record<string, unknown>;
        for (let j = 0; j < width; j++) values[base + j] = asNumber(record[names[j]]);
      } else {
        continue;
      }
      rows++;
    }
    this.rows = rows;
  }

  /** Rows of `width` values (nested: true), or one value per row (a flat array). */
  scan(text: string, prefix: string, nested = true): boolean {
    const read = this.scanText(text, prefix, nested);
    if (read) this.hits++;
    else this.misses++;
    return read;
  }

  private scanText(text: string, prefix: string, nested: boolean): boolean {
    if (!text.startsWith(prefix)) return false;

    const { width } = this;
    let i = prefix.length;
    let rows = 0;
    if (text.charCodeAt(i) === 93 /* ] */) {
      this.rows = 0;
      return text.length === i + 2 && text.charCodeAt(i + 1) === 125;
    }
    for (;;) {
      this.reserve((rows + 1) * width);
      const { values } = this;
      const base = rows * width;
      if (nested) {
        if (text.charCodeAt(i) !== 91 /* [ */) return false;
        i++;
        let j = 0;
        if (text.charCodeAt(i) !== 93) {
          for (;;) {
            if (!this.read(text, i)) return false;
            if (j < width) values[base + j] = this.value;
            j++;
            i = this.end;
            const c = text.charCodeAt(i);
            if (c === 44 /* , */) i++;
            else if (c === 93) break;
            else return false;
          }
        }
        for (; j < width; j++) values[base + j] = NaN;
        i++;
      } else {
        if (!this.read(text, i)) return false;
        values[base] = this.value;
        i = this.end;
      }
      rows++;
      const c = text.charCodeAt(i);
      if (c === 44) i++;
      else if (c === 93) break;
      else return false;
    }
    // The text must end with the array: then it was valid JSON, which the full parse would have
    // read the same. Other keys after it (truncatedRows) go the full parse's way.
    if (i + 2 !== text.length || text.charCodeAt(i + 1) !== 125 /* } */) return false;
    this.rows = rows;
    return true;
  }

  private reserve(size: number): void {
    if (size <= this.values.length) return;
    const grown = new Float64Array(Math.max(size, this.values.length * 2));
    grown.set(this.values);
    this.values = grown;
  }

  /** One value at `i`: a number, null, true or false; false for anything else. */
  private read(text: string, i: number): boolean {
    const c = text.charCodeAt(i);
    if (c === 110 /* n */ && text.startsWith('null', i)) {
      this.value = NaN;
      this.end = i + 4;
      return true;
    }
    if (c === 116 /* t */ && text.startsWith('true', i)) {
      this.value = 1;
      this.end = i + 4;
      return true;
    }
    if (c === 102 /* f */ && text.startsWith('false', i)) {
      this.value = 0;
      this.end = i + 5;
      return true;
    }
    const value = this.number(text, i);
    return value !== NOT_A_NUMBER;
  }

  /**
   * A JSON number at `start`, when it has at most 15 significant digits, no exponent and at most
   * 22 decimals (the usual logged value): mantissa and power of ten are exact in doubles, so the
   * one division rounds as JSON.parse does (Clinger's fast path). Else NOT_A_NUMBER.
   */
  private number(text: string, start: number): number {
    let i = start;
    const negative = text.charCodeAt(i) === 45; /* - */
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let exponent = 0;
    let exact = true;
    let sawDigit = false;
    let c = text.charCodeAt(i);
    // JSON has no leading zeros: "01" is not a number.
    if (c === 48 && text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57) {
      return NOT_A_NUMBER;
    }
    while (c >= 48 && c <= 57) {
      sawDigit = true;
      if (mantissa !== 0 || c !== 48) {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
      }
      c = text.charCodeAt(++i);
    }
    if (!sawDigit) return NOT_A_NUMBER;
    if (c === 46 /* . */) {
      c = text.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) return NOT_A_NUMBER;
      while (c >= 48 && c <= 57) {
        if (mantissa !== 0 || c !== 48) {
          mantissa = mantissa * 10 + (c - 48);
          digits++;
        }
        exponent--;
        c = text.charCodeAt(++i);
      }
    }
    if (c === 101 || c === 69 /* e E */) {
      exact = false;
      c = text.charCodeAt(++i);
      if (c === 43 || c === 45) c = text.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) return NOT_A_NUMBER;
      while (c >= 48 && c <= 57) c = text.charCodeAt(++i);
    }
    this.end = i;
    // Beyond that, reading the number exactly is JSON.parse's job (in C++, faster than Number()
    // on a slice of the text).
    if (!exact || digits > 15 || exponent < -22) return NOT_A_NUMBER;
    const magnitude = exponent === 0 ? mantissa : mantissa / POWERS_OF_TEN[-exponent];
    this.value = negative ? -magnitude : magnitude;
    return 0;
  }
}
