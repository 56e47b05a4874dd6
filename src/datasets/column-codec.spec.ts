import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  checksumOf,
  decodeTabularData,
  encodeTabularData,
  readColumns,
  readRowsFromFile,
  sliceRows,
} from './column-codec';
import { TabularData } from './tabular-data';

function sample(): TabularData {
  return {
    rowCount: 4,
    columns: [
      { name: 'x', type: 'number', values: Float64Array.from([1.5, NaN, -0, 1e-300]) },
      {
        name: 'label',
        type: 'string',
        values: ['a', null, 'quote " and \n newline', 'été 日本 🙂'],
      },
      { name: 'big', type: 'number', values: Float64Array.from([Number.MAX_VALUE, -2, 0, 3]) },
    ],
  };
}

describe('encodeTabularData / decodeTabularData', () => {
  it('round-trips names, types and values exactly, including NaN and -0', () => {
    const decoded = decodeTabularData(encodeTabularData(sample()));

    expect(decoded).toEqual(sample());
    const x = decoded.columns[0].values;
    expect(x).toBeInstanceOf(Float64Array);
    expect(Number.isNaN(x[1])).toBe(true);
    expect(Object.is(x[2], -0)).toBe(true);
  });

  it('round-trips strings with lone surrogates and JSON-special characters', () => {
    const data: TabularData = {
      rowCount: 3,
      columns: [{ name: 'odd "name"\t', type: 'string', values: ['\ud800', '\\u0000', '\u0000'] }],
    };

    expect(decodeTabularData(encodeTabularData(data))).toEqual(data);
  });

  it('produces byte-identical output for equal tables', () => {
    expect(encodeTabularData(sample()).equals(encodeTabularData(sample()))).toBe(true);
  });

  it('writes every missing number as the same canonical NaN, whatever its payload', () => {
    const payloadNaN = new Float64Array(1);
    new DataView(payloadNaN.buffer).setBigUint64(0, 0x7ff8_0000_dead_beefn, true);
    const data = (values: Float64Array): TabularData => ({
      rowCount: 1,
      columns: [{ name: 'x', type: 'number', values }],
    });

    const encoded = encodeTabularData(data(payloadNaN));

    expect(encoded.equals(encodeTabularData(data(Float64Array.of(NaN))))).toBe(true);
    expect(encoded.readBigUInt64LE(encoded.length - 8)).toBe(0x7ff8_0000_0000_0000n);
  });

  it('lays out magic, version, header and 8-byte aligned little-endian columns', () => {
    const data: TabularData = {
      rowCount: 2,
      columns: [
        { name: 's', type: 'string', values: ['ab', null] },
        { name: 'n', type: 'number', values: Float64Array.from([1, 2]) },
      ],
    };
    const encoded = encodeTabularData(data);
    const header =
      '{"rowCount":2,"columns":[{"name":"s","type":"string"},{"name":"n","type":"number"}]}';

    expect(encoded.subarray(0, 4).toString('ascii')).toBe('MDTB');
    expect([...encoded.subarray(4, 8)]).toEqual([1, 0, 0, 0]);
    expect(encoded.readUInt32LE(8)).toBe(header.length);
    expect(encoded.subarray(12, 12 + header.length).toString('utf8')).toBe(header);
    const stringsAt = Math.ceil((12 + header.length) / 8) * 8;
    expect(encoded.readUInt32LE(stringsAt)).toBe('["ab",null]'.length);
    expect(encoded.subarray(stringsAt + 4, stringsAt + 15).toString('utf8')).toBe('["ab",null]');
    const numbersAt = stringsAt + 16;
    expect(numbersAt % 8).toBe(0);
    expect(encoded.readDoubleLE(numbersAt)).toBe(1);
    expect(encoded.readDoubleLE(numbersAt + 8)).toBe(2);
    expect(encoded.length).toBe(numbersAt + 16);
  });

  it('decodes from a buffer that does not start on an 8-byte boundary', () => {
    const encoded = encodeTabularData(sample());
    const shifted = Buffer.alloc(encoded.length + 3);
    encoded.copy(shifted, 3);

    expect(decodeTabularData(shifted.subarray(3))).toEqual(sample());
  });

  it('returns number columns that do not share memory with the input buffer', () => {
    const encoded = encodeTabularData(sample());
    const decoded = decodeTabularData(encoded);
    encoded.fill(0);

    expect(decoded.columns[2].values[0]).toBe(Number.MAX_VALUE);
  });

  it('rejects a column whose value count differs from rowCount', () => {
    const data: TabularData = {
      rowCount: 3,
      columns: [{ name: 'x', type: 'number', values: Float64Array.of(1, 2) }],
    };

    expect(() => encodeTabularData(data)).toThrow('column "x" has 2 values but rowCount is 3');
  });

  it('rejects data without the magic bytes', () => {
    expect(() => decodeTabularData(Buffer.from('not a dataset at all'))).toThrow(
      'Not a valid encoded dataset: it does not start with the MDTB magic bytes',
    );
  });

  it('rejects an unknown format version', () => {
    const encoded = encodeTabularData(sample());
    encoded[4] = 9;

    expect(() => decodeTabularData(encoded)).toThrow('format version 9 is not supported');
  });

  it('rejects truncated data', () => {
    const encoded = encodeTabularData(sample());

    expect(() => decodeTabularData(encoded.subarray(0, encoded.length - 8))).toThrow(
      'the column "big" runs past the end of the data',
    );
  });

  it('rejects trailing bytes', () => {
    const encoded = encodeTabularData(sample());

    expect(() => decodeTabularData(Buffer.concat([encoded, Buffer.alloc(8)]))).toThrow(
      '8 unexpected bytes follow the last column',
    );
  });

  it('rejects a corrupt header', () => {
    const encoded = encodeTabularData(sample());
    encoded[12] = 0x5b; // '{' becomes '['

    expect(() => decodeTabularData(encoded)).toThrow('Not a valid encoded dataset');
  });
});

describe('readColumns', () => {
  let dir: string;
  const write = (bytes: Buffer) => {
    const file = path.join(dir, 'data');
    writeFileSync(file, bytes);
    return file;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'modeldock-codec-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the named columns in the order asked, as decodeTabularData does', () => {
    const file = write(encodeTabularData(sample()));
    const full = decodeTabularData(encodeTabularData(sample()));
    const read = readColumns({ file: file }, ['big', 'label']);
    expect(read).toEqual({ rowCount: 4, columns: [full.columns[2], full.columns[1]] });
    expect(read.columns[0].values).toBeInstanceOf(Float64Array);
    const x = readColumns({ file: file }, ['x']).columns[0].values as Float64Array;
    expect(Number.isNaN(x[1])).toBe(true);
    expect(Object.is(x[2], -0)).toBe(true);
  });

  it('reads the same columns from the encoded bytes as from the file', () => {
    const encoded = encodeTabularData(sample());
    const file = write(encoded);
    const fromBytes = readColumns({ encoded: new Uint8Array(encoded) }, ['big', 'label', 'x']);
    expect(fromBytes).toEqual(readColumns({ file }, ['big', 'label', 'x']));
    expect(() => readColumns({ encoded: encoded.subarray(0, 20) }, ['x'])).toThrow(
      /Not a valid encoded dataset/,
    );
  });

  it('says the contents are missing when the file is gone, the ENOENT as its cause', () => {
    const gone = path.join(dir, 'gone');
    expect(() => readColumns({ file: gone }, ['x'])).toThrow(
      /contents of the dataset are missing from storage/,
    );
    expect(() => readColumns({ file: gone }, ['x'])).toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ code: 'ENOENT' }) }),
    );
  });

  it('reads a number column after a string column and reads none at all', () => {
    const file = write(encodeTabularData(sample()));
    expect(readColumns({ file: file }, [])).toEqual({ rowCount: 4, columns: [] });
    expect(readColumns({ file: file }, ['big']).columns[0].values).toEqual(
      Float64Array.from([Number.MAX_VALUE, -2, 0, 3]),
    );
  });

  it('names a column the dataset does not have', () => {
    const file = write(encodeTabularData(sample()));
    expect(() => readColumns({ file: file }, ['x', 'nope'])).toThrow('no column "nope"');
  });

  it('rejects a truncated file and one with trailing bytes, like a buffer', () => {
    const encoded = encodeTabularData(sample());
    expect(() =>
      readColumns({ file: write(encoded.subarray(0, encoded.length - 8)) }, ['x']),
    ).toThrow(/Not a valid encoded dataset/);
    expect(() =>
      readColumns({ file: write(Buffer.concat([encoded, Buffer.alloc(8)])) }, ['x']),
    ).toThrow('8 unexpected bytes follow the last column');
    expect(() => readColumns({ file: write(Buffer.from('MDT')) }, ['x'])).toThrow(/magic/);
  });
});

describe('checksumOf', () => {
  it('is the SHA-256 hex digest of the encoding', () => {
    const encoded = encodeTabularData(sample());

    expect(checksumOf(encoded)).toBe(createHash('sha256').update(encoded).digest('hex'));
    expect(checksumOf(encoded)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs between tables that differ only in a column name or type', () => {
    const base: TabularData = {
      rowCount: 1,
      columns: [{ name: 'a', type: 'string', values: ['1'] }],
    };
    const renamed: TabularData = {
      rowCount: 1,
      columns: [{ name: 'b', type: 'string', values: ['1'] }],
    };
    const numeric: TabularData = {
      rowCount: 1,
      columns: [{ name: 'a', type: 'number', values: Float64Array.of(1) }],
    };
    const checksums = [base, renamed, numeric].map((data) => checksumOf(encodeTabularData(data)));

    expect(new Set(checksums).size).toBe(3);
  });
});

describe('sliceRows', () => {
  it('returns the requested rows as cell arrays with null for missing cells', () => {
    expect(sliceRows(sample(), 1, 2)).toEqual([
      [null, null, -2],
      [-0, 'quote " and \n newline', 0],
    ]);
  });

  it('clips the slice at the last row', () => {
    expect(sliceRows(sample(), 3, 10)).toEqual([[1e-300, 'été 日本 🙂', 3]]);
    expect(sliceRows(sample(), 4, 10)).toEqual([]);
    expect(sliceRows(sample(), 100, 10)).toEqual([]);
  });

  it('returns no rows for a zero limit', () => {
    expect(sliceRows(sample(), 0, 0)).toEqual([]);
  });

  it.each([
    [-1, 1],
    [0, -1],
    [0.5, 1],
    [0, Infinity],
  ])('rejects offset %p with limit %p', (offset, limit) => {
    expect(() => sliceRows(sample(), offset, limit)).toThrow(RangeError);
  });
});

describe('readRowsFromFile', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'modeldock-codec-rows-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every page of a table as sliceRows does from the decoded table', () => {
    const file = path.join(dir, 'data');
    const encoded = encodeTabularData(sample());
    writeFileSync(file, encoded);
    const full = decodeTabularData(encoded);
    for (const [offset, limit] of [
      [0, 50],
      [1, 2],
      [3, 1],
      [3, 10],
      [4, 5],
      [9, 2],
      [2, 0],
    ]) {
      expect(readRowsFromFile(file, offset, limit)).toEqual(sliceRows(full, offset, limit));
    }
    // Missing numbers as null, -0 as it was, strings and their nulls.
    expect(readRowsFromFile(file, 1, 2)).toEqual(sliceRows(full, 1, 2));
    expect(readRowsFromFile(file, 1, 1)[0]).toContain(null);
  });

  it('rejects a truncated file as the decoder does', () => {
    const encoded = encodeTabularData(sample());
    const file = path.join(dir, 'data');
    writeFileSync(file, encoded.subarray(0, encoded.length - 8));
    expect(() => readRowsFromFile(file, 0, 2)).toThrow(/Not a valid encoded dataset/);
  });
});
