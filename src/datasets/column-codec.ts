import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { Column, ColumnType, TabularData } from './tabular-data';

/*
 * Layout, all integers little-endian, every block starting on an 8-byte boundary:
 *   0  magic "MDTB"
 *   4  format version (u8), then 3 zero bytes
 *   8  header byte length (u32)
 *  12  header: UTF-8 JSON {"rowCount":n,"columns":[{"name":...,"type":...}]}
 *   .. zero padding to a multiple of 8
 *   per column, in order:
 *     number: rowCount float64 values, missing cells as the canonical quiet NaN
 *     string: byte length (u32), UTF-8 JSON array of strings and nulls, zero padding to 8
 * Nothing depends on key order, host endianness or NaN payloads, so equal tables encode to equal
 * bytes and the SHA-256 of the encoding is the table's canonical checksum.
 */
const MAGIC = Buffer.from('MDTB', 'ascii');
const FORMAT_VERSION = 1;
const PREFIX_BYTES = 12;
/** Float64Array uses the host's byte order; on a little-endian host values are copied as bytes. */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export interface HeaderColumn {
  name: string;
  type: ColumnType;
}

type Block = { type: 'number'; values: Float64Array } | { type: 'string'; json: Buffer };

export function encodeTabularData(data: TabularData): Buffer {
  const { rowCount, columns } = data;
  const prefix = encodeTabularPrefix(
    rowCount,
    columns.map((column): HeaderColumn => ({ name: column.name, type: column.type })),
  );
  const blocks = columns.map((column): Block => {
    if (column.values.length !== rowCount) {
      throw new Error(
        `column "${column.name}" has ${column.values.length} values but rowCount is ${rowCount}`,
      );
    }
    return column.type === 'number'
      ? { type: 'number', values: column.values }
      : { type: 'string', json: Buffer.from(JSON.stringify(column.values), 'utf8') };
  });

  let size = prefix.length;
  for (const block of blocks) {
    size += block.type === 'number' ? rowCount * 8 : stringBlockBytes(block.json.length);
  }

  // Buffer.alloc zero-fills, which keeps the padding deterministic.
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  prefix.copy(out, 0);
  let offset = prefix.length;
  for (const block of blocks) {
    if (block.type === 'number') {
      writeNumbers(out, view, offset, block.values, rowCount);
      offset += rowCount * 8;
    } else {
      out.writeUInt32LE(block.json.length, offset);
      block.json.copy(out, offset + 4);
      offset += stringBlockBytes(block.json.length);
    }
  }
  return out;
}

/**
 * The bytes before the first column (magic, version, header length, header, zero padding to 8):
 * for encodeTabularData, and for an encoding assembled from columns written to files.
 */
export function encodeTabularPrefix(rowCount: number, columns: readonly HeaderColumn[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      rowCount,
      columns: columns.map(({ name, type }): HeaderColumn => ({ name, type })),
    }),
    'utf8',
  );
  const prefix = Buffer.alloc(align8(PREFIX_BYTES + header.length));
  MAGIC.copy(prefix, 0);
  prefix[4] = FORMAT_VERSION;
  prefix.writeUInt32LE(header.length, 8);
  header.copy(prefix, PREFIX_BYTES);
  return prefix;
}

/** A string column's block: its JSON's byte length (u32), the JSON, zero padding to 8. */
export function stringBlockBytes(jsonBytes: number): number {
  return align8(4 + jsonBytes);
}

/**
 * A number column's values as they are encoded (little-endian, missing ones as the canonical
 * quiet NaN): on a little-endian host the values' own bytes, their NaNs rewritten in place.
 */
export function encodedNumberBytes(values: Float64Array, count: number): Uint8Array {
  if (LITTLE_ENDIAN_HOST) {
    for (let row = 0; row < count; row++) {
      if (values[row] !== values[row]) values[row] = NaN;
    }
    return new Uint8Array(values.buffer, values.byteOffset, count * 8);
  }
  const out = Buffer.alloc(count * 8);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  for (let row = 0; row < count; row++) {
    const value = values[row];
    view.setFloat64(row * 8, Number.isNaN(value) ? NaN : value, true);
  }
  return out;
}

/**
 * A number column's values at `offset`, little-endian, missing ones as the canonical quiet NaN
 * (NaN payloads can differ bit for bit). On a little-endian host the bytes are copied in one go
 * and only the NaNs rewritten; a value at a time through the DataView cost about 1 s per 20 M.
 */
function writeNumbers(
  out: Buffer,
  view: DataView,
  offset: number,
  values: Float64Array,
  rowCount: number,
): void {
  if (LITTLE_ENDIAN_HOST && (out.byteOffset + offset) % 8 === 0) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, rowCount * 8), offset);
    const written = new Float64Array(out.buffer, out.byteOffset + offset, rowCount);
    for (let row = 0; row < rowCount; row++) {
      if (written[row] !== written[row]) written[row] = NaN;
    }
    return;
  }
  for (let row = 0; row < rowCount; row++, offset += 8) {
    const value = values[row];
    view.setFloat64(offset, Number.isNaN(value) ? NaN : value, true);
  }
}

export function decodeTabularData(buffer: Buffer): TabularData {
  const read = (start: number, length: number, what: string) =>
    readSlice(buffer, start, length, what);
  const { rowCount, columns } = readLayout(buffer.length, read);
  return {
    rowCount,
    columns: columns.map((span) => decodeColumn(span, rowCount, read)),
  };
}

/**
 * A dataset's encoding as a thread gets it: the file the store keeps it in (the file store), or
 * the bytes themselves, read from the store by the event loop and moved to the thread.
 */
export type EncodedSource = { file: string } | { encoded: Uint8Array };

/**
 * The named columns of an encoding, in the order asked, reading only their bytes (and the header
 * and each string column's length, to find them): number columns are copied straight into their
 * Float64Array. Checked as decodeTabularData checks a buffer. Synchronous: for a worker thread
 * (training, drift), not the event loop.
 */
export function readColumns(source: EncodedSource, names: readonly string[]): TabularData {
  if ('encoded' in source) {
    const bytes = Buffer.from(
      source.encoded.buffer,
      source.encoded.byteOffset,
      source.encoded.byteLength,
    );
    return pickColumns(
      bytes.length,
      (start, length, what) => readSlice(bytes, start, length, what),
      names,
    );
  }
  try {
    return withFileReader(source.file, (read, size) => pickColumns(size, read, names));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`the contents of the dataset are missing from storage (${source.file})`, {
        cause: error,
      });
    }
    throw error;
  }
}

function pickColumns(size: number, read: Reader, names: readonly string[]): TabularData {
  const { rowCount, columns } = readLayout(size, read);
  const byName = new Map(columns.map((span) => [span.name, span]));
  return {
    rowCount,
    columns: names.map((name) => {
      const span = byName.get(name);
      if (!span) throw new Error(`the encoded dataset has no column ${JSON.stringify(name)}`);
      return decodeColumn(span, rowCount, read);
    }),
  };
}

/**
 * Rows [offset, offset + limit) of an encoding kept in a file, as sliceRows gives them from the
 * decoded table: of a number column only those rows' bytes are read; a string column's JSON is
 * read whole (its values have no fixed offsets). A preview of a page of a numeric dataset reads a
 * few kilobytes however large the dataset, so it may run on the event loop.
 */
export function readRowsFromFile(
  file: string,
  offset: number,
  limit: number,
): (number | string | null)[][] {
  return withFileReader(file, (read, size) => {
    const { rowCount, columns } = readLayout(size, read);
    const start = Math.min(offset, rowCount);
    const count = Math.max(0, Math.min(rowCount, offset + limit) - start);
    const page = columns.map((span): Column => {
      if (span.type === 'string') {
        const values = decodeColumn(span, rowCount, read).values as (string | null)[];
        return { name: span.name, type: 'string', values: values.slice(start, start + count) };
      }
      const slice = { ...span, offset: span.offset + start * 8, length: count * 8 };
      return decodeColumn(slice, count, read);
    });
    return sliceRows({ rowCount: count, columns: page }, 0, count);
  });
}

/** Runs `use` with a synchronous Reader over `file` and the file's size; closes it after. */
function withFileReader<T>(file: string, use: (read: Reader, size: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    const read = (start: number, length: number, what: string, into?: Uint8Array) => {
      const bytes = into ?? Buffer.allocUnsafe(length);
      for (let done = 0; done < length;) {
        const count = readSync(fd, bytes, done, length - done, start + done);
        if (count === 0) throw corrupt(`the ${what} runs past the end of the data`);
        done += count;
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, length);
    };
    return use(read, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/** Where one column's bytes are: a number column's values, a string column's JSON. */
interface ColumnSpan extends HeaderColumn {
  offset: number;
  length: number;
}

/** Reads `length` bytes at `start`, into `into` when given; throws when the data ends first. */
type Reader = (start: number, length: number, what: string, into?: Uint8Array) => Buffer;

/**
 * The header and where every column is, found by walking the blocks: a number column's size
 * follows from rowCount, a string column's is the u32 before it. Checks that the blocks end
 * exactly where the data does.
 */
function readLayout(size: number, read: Reader): { rowCount: number; columns: ColumnSpan[] } {
  if (size < PREFIX_BYTES) throw corrupt('it does not start with the MDTB magic bytes');
  const prefix = read(0, PREFIX_BYTES, 'prefix');
  if (!prefix.subarray(0, 4).equals(MAGIC)) {
    throw corrupt('it does not start with the MDTB magic bytes');
  }
  if (prefix[4] !== FORMAT_VERSION) {
    throw corrupt(`format version ${prefix[4]} is not supported (expected ${FORMAT_VERSION})`);
  }
  const headerLength = prefix.readUInt32LE(8);
  const { rowCount, columns } = readHeader(read(PREFIX_BYTES, headerLength, 'header'));
  let offset = align8(PREFIX_BYTES + headerLength);
  const spans = columns.map(({ name, type }): ColumnSpan => {
    const what = `column ${JSON.stringify(name)}`;
    if (type === 'number') {
      if (offset + rowCount * 8 > size) throw corrupt(`the ${what} runs past the end of the data`);
      const span = { name, type, offset, length: rowCount * 8 };
      offset += rowCount * 8;
      return span;
    }
    const length = read(offset, 4, what).readUInt32LE(0);
    if (offset + 4 + length > size) throw corrupt(`the ${what} runs past the end of the data`);
    const span = { name, type, offset: offset + 4, length };
    offset += align8(4 + length);
    return span;
  });
  if (offset !== size) {
    throw corrupt(`${size - offset} unexpected bytes follow the last column`);
  }
  return { rowCount, columns: spans };
}

function decodeColumn(span: ColumnSpan, rowCount: number, read: Reader): Column {
  const { name, type, offset, length } = span;
  const what = `column ${JSON.stringify(name)}`;
  if (type === 'string') {
    return { name, type, values: readStringValues(read(offset, length, what), rowCount, what) };
  }
  // A copy the result owns (the input may be a buffer the caller reuses), at any byte offset.
  const values = new Float64Array(rowCount);
  const bytes = new Uint8Array(values.buffer);
  const source = read(offset, length, what, LITTLE_ENDIAN_HOST ? bytes : undefined);
  if (LITTLE_ENDIAN_HOST) {
    if (source.buffer !== values.buffer) bytes.set(source);
  } else {
    const view = new DataView(source.buffer, source.byteOffset, source.length);
    for (let row = 0; row < rowCount; row++) values[row] = view.getFloat64(row * 8, true);
  }
  return { name, type, values };
}

/** SHA-256 (hex) of an encoding from encodeTabularData: the dataset's canonical checksum. */
export function checksumOf(encoded: Buffer): string {
  return createHash('sha256').update(encoded).digest('hex');
}

/** Rows [offset, offset + limit) as cell arrays, missing cells as null, clipped at the end. */
export function sliceRows(
  data: TabularData,
  offset: number,
  limit: number,
): (number | string | null)[][] {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(
      `offset and limit must be non-negative integers, got ${offset} and ${limit}`,
    );
  }
  const end = Math.min(data.rowCount, offset + limit);
  const rows: (number | string | null)[][] = [];
  for (let row = offset; row < end; row++) {
    rows.push(
      data.columns.map((column) => {
        const value = column.values[row];
        return typeof value === 'number' && Number.isNaN(value) ? null : value;
      }),
    );
  }
  return rows;
}

function align8(length: number): number {
  return Math.ceil(length / 8) * 8;
}

function corrupt(reason: string): Error {
  return new Error(`Not a valid encoded dataset: ${reason}`);
}

function readSlice(buffer: Buffer, start: number, length: number, what: string): Buffer {
  if (start + length > buffer.length) throw corrupt(`the ${what} runs past the end of the data`);
  return buffer.subarray(start, start + length);
}

function readHeader(bytes: Buffer): { rowCount: number; columns: HeaderColumn[] } {
  const header = parseJson(bytes, 'header');
  if (typeof header !== 'object' || header === null) throw corrupt('the header is not an object');
  const { rowCount, columns } = header as { rowCount?: unknown; columns?: unknown };
  if (typeof rowCount !== 'number' || !Number.isSafeInteger(rowCount) || rowCount < 0) {
    throw corrupt('the header has no valid rowCount');
  }
  if (!Array.isArray(columns) || !columns.every(isHeaderColumn)) {
    throw corrupt('the header has no valid column list');
  }
  return { rowCount, columns };
}

function isHeaderColumn(value: unknown): value is HeaderColumn {
  if (typeof value !== 'object' || value === null) return false;
  const { name, type } = value as { name?: unknown; type?: unknown };
  return typeof name === 'string' && (type === 'number' || type === 'string');
}

function readStringValues(bytes: Buffer, rowCount: number, what: string): (string | null)[] {
  const values = parseJson(bytes, what);
  if (
    !Array.isArray(values) ||
    values.length !== rowCount ||
    !values.every((value): value is string | null => value === null || typeof value === 'string')
  ) {
    throw corrupt(`the ${what} does not hold ${rowCount} strings or nulls`);
  }
  return values;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt(`the ${what} is not valid JSON`);
  }
}
