import { createHash } from 'node:crypto';
import { checksumOf, decodeTabularData, encodeTabularData, sliceRows } from './column-codec';
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
