import { createHash } from 'node:crypto';
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

interface HeaderColumn {
  name: string;
  type: ColumnType;
}

type Block = { type: 'number'; values: Float64Array } | { type: 'string'; json: Buffer };

export function encodeTabularData(data: TabularData): Buffer {
  const { rowCount, columns } = data;
  const header = Buffer.from(
    JSON.stringify({
      rowCount,
      columns: columns.map((column): HeaderColumn => ({ name: column.name, type: column.type })),
    }),
    'utf8',
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

  let size = align8(PREFIX_BYTES + header.length);
  for (const block of blocks) {
    size += block.type === 'number' ? rowCount * 8 : align8(4 + block.json.length);
  }

  // Buffer.alloc zero-fills, which keeps the padding deterministic.
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  MAGIC.copy(out, 0);
  out[4] = FORMAT_VERSION;
  out.writeUInt32LE(header.length, 8);
  header.copy(out, PREFIX_BYTES);
  let offset = align8(PREFIX_BYTES + header.length);
  for (const block of blocks) {
    if (block.type === 'number') {
      const { values } = block;
      for (let row = 0; row < rowCount; row++, offset += 8) {
        const value = values[row];
        // NaN payloads can differ bit for bit; always write the one canonical NaN.
        view.setFloat64(offset, Number.isNaN(value) ? NaN : value, true);
      }
    } else {
      out.writeUInt32LE(block.json.length, offset);
      block.json.copy(out, offset + 4);
      offset += align8(4 + block.json.length);
    }
  }
  return out;
}

export function decodeTabularData(buffer: Buffer): TabularData {
  if (buffer.length < PREFIX_BYTES || !buffer.subarray(0, 4).equals(MAGIC)) {
    throw corrupt('it does not start with the MDTB magic bytes');
  }
  if (buffer[4] !== FORMAT_VERSION) {
    throw corrupt(`format version ${buffer[4]} is not supported (expected ${FORMAT_VERSION})`);
  }
  const headerLength = buffer.readUInt32LE(8);
  const { rowCount, columns: headerColumns } = readHeader(
    readSlice(buffer, PREFIX_BYTES, headerLength, 'header'),
  );

  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  let offset = align8(PREFIX_BYTES + headerLength);
  const columns = headerColumns.map(({ name, type }): Column => {
    const what = `column ${JSON.stringify(name)}`;
    if (type === 'number') {
      readSlice(buffer, offset, rowCount * 8, what);
      // Copied value by value: the input may sit at any byte offset, and the result must not
      // alias a buffer the caller may reuse.
      const values = new Float64Array(rowCount);
      for (let row = 0; row < rowCount; row++, offset += 8) {
        values[row] = view.getFloat64(offset, true);
      }
      return { name, type, values };
    }
    const length = readSlice(buffer, offset, 4, what).readUInt32LE(0);
    const values = readStringValues(readSlice(buffer, offset + 4, length, what), rowCount, what);
    offset += align8(4 + length);
    return { name, type, values };
  });
  if (offset !== buffer.length) {
    throw corrupt(`${buffer.length - offset} unexpected bytes follow the last column`);
  }
  return { rowCount, columns };
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
