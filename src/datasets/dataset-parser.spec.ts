import { checksumOf, encodeTabularData } from './column-codec';
import { parseCsv, parseRecords, parseRows } from './dataset-parser';
import { readPlainCsv } from './plain-csv-reader';
import { Column, DATASET_LIMITS, DatasetParseError, TabularData } from './tabular-data';

function parseErrorOf(parse: () => unknown): DatasetParseError {
  try {
    parse();
  } catch (error) {
    if (error instanceof DatasetParseError) return error;
    throw error;
  }
  throw new Error('expected a DatasetParseError');
}

function column(data: TabularData, name: string): Column {
  const found = data.columns.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
}

function numbers(data: TabularData, name: string): number[] {
  const found = column(data, name);
  if (found.type !== 'number') throw new Error(`${name} is a ${found.type} column`);
  return Array.from(found.values);
}

function strings(data: TabularData, name: string): (string | null)[] {
  const found = column(data, name);
  if (found.type !== 'string') throw new Error(`${name} is a ${found.type} column`);
  return found.values;
}

describe('parseCsv', () => {
  it('infers number and string columns and parses their values in header order', () => {
    const data = parseCsv('age,city,score\n31,Paris,0.5\n47,Oslo,-1.25\n');

    expect(data.rowCount).toBe(2);
    expect(data.columns.map(({ name, type }) => [name, type])).toEqual([
      ['age', 'number'],
      ['city', 'string'],
      ['score', 'number'],
    ]);
    expect(column(data, 'age').values).toBeInstanceOf(Float64Array);
    expect(numbers(data, 'age')).toEqual([31, 47]);
    expect(strings(data, 'city')).toEqual(['Paris', 'Oslo']);
    expect(numbers(data, 'score')).toEqual([0.5, -1.25]);
  });

  it('accepts every form of finite decimal number as numeric', () => {
    const data = parseCsv('x\n1\n-2.5\n1e3\n.5\n+4\n7.\n-1.5E-2\n007\n');

    expect(numbers(data, 'x')).toEqual([1, -2.5, 1000, 0.5, 4, 7, -0.015, 7]);
  });

  it('keeps the sign of -0', () => {
    const values = numbers(parseCsv('x\n-0\n1\n'), 'x');

    expect(Object.is(values[0], -0)).toBe(true);
  });

  it.each([
    ['a hex literal', '0x10'],
    ['a binary literal', '0b11'],
    ['an octal literal', '0o17'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    ['NaN', 'NaN'],
    ['a decimal comma', '"1,5"'],
    ['a number padded with spaces inside quotes', '" 12 "'],
    ['an overflowing exponent', '1e999'],
    ['a lone sign', '-'],
    ['a lone dot', '.'],
    ['digits with separators', '1_000'],
  ])('makes a column with %s a string column, keeping the text', (_label, cell) => {
    const data = parseCsv(`x,y\n1,1\n${cell},2\n`);

    expect(column(data, 'x').type).toBe('string');
    expect(strings(data, 'x')[1]).toBe(cell.startsWith('"') ? cell.slice(1, -1) : cell);
    expect(numbers(data, 'y')).toEqual([1, 2]);
  });

  it('keeps the original text of numeric-looking cells in a string column', () => {
    expect(strings(parseCsv('code\n007\n1.50\nA1\n'), 'code')).toEqual(['007', '1.50', 'A1']);
  });

  it('treats empty cells as missing: NaN in number columns, null in string columns', () => {
    const data = parseCsv('n,s\n1,a\n,\n3,""\n');

    expect(numbers(data, 'n')).toEqual([1, NaN, 3]);
    expect(strings(data, 's')).toEqual(['a', null, null]);
  });

  it('reads quoted fields holding commas, line breaks and doubled quotes', () => {
    const data = parseCsv('id,text\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"""\n');

    expect(strings(data, 'text')).toEqual(['a, b', 'line one\nline two', 'say "hi"']);
    expect(numbers(data, 'id')).toEqual([1, 2, 3]);
  });

  it('gives the same table for LF, CRLF and CR line endings', () => {
    const lf = parseCsv('a,b\n1,x\n2,y\n');

    expect(parseCsv('a,b\r\n1,x\r\n2,y\r\n')).toEqual(lf);
    expect(parseCsv('a,b\r1,x\r2,y\r')).toEqual(lf);
  });

  it('strips a UTF-8 byte order mark from a string or a Buffer', () => {
    const expected = parseCsv('a,b\n1,2\n');

    expect(parseCsv('\ufeffa,b\n1,2\n')).toEqual(expected);
    expect(
      parseCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\n1,2\n')])),
    ).toEqual(expected);
  });

  it('trims whitespace around unquoted cells and names but keeps it inside quotes', () => {
    const data = parseCsv(' name , "padded" \n  Ada  ,"  kept  "\n');

    expect(data.columns.map((c) => c.name)).toEqual(['name', 'padded']);
    expect(strings(data, 'name')).toEqual(['Ada']);
    expect(strings(data, 'padded')).toEqual(['  kept  ']);
  });

  it('reads UTF-8 text from a Buffer', () => {
    expect(strings(parseCsv(Buffer.from('mot\nété\n日本\n', 'utf8')), 'mot')).toEqual([
      'été',
      '日本',
    ]);
  });

  it('accepts input with or without a trailing newline', () => {
    expect(parseCsv('a\n1\n2')).toEqual(parseCsv('a\n1\n2\n'));
  });

  it('skips fully blank lines, including whitespace-only ones and those before the header', () => {
    const data = parseCsv('\n\na,b\n1,2\n\n   \n\t\n3,4\n\n');

    expect(data.rowCount).toBe(2);
    expect(numbers(data, 'a')).toEqual([1, 3]);
    expect(numbers(data, 'b')).toEqual([2, 4]);
  });

  it('reads a missing value of a single-column CSV from a "" line', () => {
    expect(numbers(parseCsv('x\n1\n""\n3\n'), 'x')).toEqual([1, NaN, 3]);
  });

  it('rejects an empty body, explaining what to send', () => {
    for (const body of ['', '\n\n  \r\n', '\ufeff']) {
      const error = parseErrorOf(() => parseCsv(body));

      expect(error.message).toBe('the CSV is empty: send a header row then data rows');
      expect(error.errors).toEqual([{ field: 'body', message: error.message }]);
    }
  });

  it('rejects a header without data rows, naming the header line', () => {
    const error = parseErrorOf(() => parseCsv('\na,b\n\n'));

    expect(error.errors).toEqual([
      {
        field: 'line 2',
        message:
          'the CSV has a header row (line 2) but no data rows: add one line per example below the header',
      },
    ]);
  });

  it('rejects empty column names, naming each position', () => {
    const error = parseErrorOf(() => parseCsv('a,,c," "\n1,2,3,4\n'));

    expect(error.errors.map((e) => e.field)).toEqual(['line 1, column 2', 'line 1, column 4']);
    expect(error.errors[0].message).toBe(
      'column 2 has an empty name: give every column a non-blank name',
    );
    expect(error.message).toMatch(
      /^2 problems found in the CSV \(all listed\); the first: column 2/,
    );
  });

  it('rejects duplicate column names, naming the name and both positions', () => {
    const error = parseErrorOf(() => parseCsv('id,x,y,x\n1,2,3,4\n'));

    expect(error.errors).toEqual([
      {
        field: 'line 1, column 4',
        message:
          'the column name "x" is used by columns 2 and 4: column names must be unique, so rename one of them',
      },
    ]);
  });

  it('rejects a column name longer than the limit', () => {
    const long = 'n'.repeat(DATASET_LIMITS.maxColumnNameLength + 1);
    const error = parseErrorOf(() => parseCsv(`ok,${long}\n1,2\n`));

    expect(error.errors).toEqual([
      {
        field: 'line 1, column 2',
        message: `column 2 has a 129-character name but at most 128 are allowed: shorten it`,
      },
    ]);
  });

  it('accepts a column name exactly at the length limit', () => {
    const name = 'n'.repeat(DATASET_LIMITS.maxColumnNameLength);

    expect(parseCsv(`${name}\n1\n`).columns[0].name).toBe(name);
  });

  it('rejects more columns than the limit', () => {
    const count = DATASET_LIMITS.maxColumns + 1;
    const header = Array.from({ length: count }, (_, i) => `c${i}`).join(',');
    const row = Array.from({ length: count }, () => '1').join(',');
    const error = parseErrorOf(() => parseCsv(`${header}\n${row}\n`));

    expect(error.errors).toEqual([
      {
        field: 'line 1',
        message:
          'the header row has 1001 columns but at most 1000 are allowed: drop unused columns or split the dataset',
      },
    ]);
  });

  it('accepts exactly the maximum number of columns', () => {
    const count = DATASET_LIMITS.maxColumns;
    const header = Array.from({ length: count }, (_, i) => `c${i}`).join(',');
    const row = Array.from({ length: count }, (_, i) => String(i)).join(',');

    expect(parseCsv(`${header}\n${row}\n`).columns).toHaveLength(count);
  });

  it('rejects a ragged row with its line number and the expected and actual field counts', () => {
    const error = parseErrorOf(() => parseCsv('a,b,c\n1,2,3\n4,5\n6,7,8\n'));

    expect(error.errors).toEqual([
      {
        field: 'line 3',
        message:
          'line 3 has 2 fields but the header has 3: give every row one field per column (leave a field empty for a missing value, and quote fields that contain commas)',
      },
    ]);
    expect(error.message).toBe(error.errors[0].message);
  });

  it('reports every ragged row, with a summary', () => {
    const error = parseErrorOf(() => parseCsv('a,b\n1,2\n3\n4,5,6\n7,8\n9\n'));

    expect(error.errors.map((e) => e.field)).toEqual(['line 3', 'line 4', 'line 6']);
    expect(error.errors[1].message).toMatch(/^line 4 has 3 fields but the header has 2/);
    expect(error.message).toMatch(
      /^3 problems found in the CSV \(all listed\); the first: line 3 /,
    );
  });

  it('counts lines through blank lines and multi-line quoted fields, in LF and CRLF files', () => {
    const lf = 'a,b\n"multi\nline\ncell",1\n\n\n2\n3,4\n';
    const crlf = lf.replace(/\n/g, '\r\n');

    for (const body of [lf, crlf]) {
      expect(parseErrorOf(() => parseCsv(body)).errors.map((e) => e.field)).toEqual(['line 7']);
    }
  });

  it('lists at most 20 problems but counts them all', () => {
    const body = 'a,b\n' + Array.from({ length: 30 }, (_, i) => `${i}`).join('\n') + '\n';
    const error = parseErrorOf(() => parseCsv(body));

    expect(error.errors).toHaveLength(20);
    expect(error.errors[19].field).toBe('line 21');
    expect(error.message).toMatch(/^30 problems found in the CSV \(the first 20 are listed\)/);
  });

  it('rejects an unclosed quote, naming the line where the quoted field starts', () => {
    const error = parseErrorOf(() => parseCsv('a,b\n1,2\n\n3,"never closed\n4,5\n'));

    expect(error.errors).toEqual([
      {
        field: 'line 4',
        message:
          'a quoted field starting on line 4 is never closed: add the closing " (and write "" for a quote inside a quoted field)',
      },
    ]);
  });

  it('rejects an unclosed quote in the header on line 1', () => {
    expect(parseErrorOf(() => parseCsv('"a,b\n1,2\n')).errors[0].field).toBe('line 1');
  });

  it('rejects a quote inside an unquoted field, naming its line', () => {
    const error = parseErrorOf(() => parseCsv('size,label\n5,ok\n6,5" screen\n'));

    expect(error.errors[0].field).toBe('line 3');
    expect(error.message).toMatch(/^a field on line 3 contains a " but does not start with one/);
  });

  it('rejects text after a closing quote, naming the line where the field starts', () => {
    for (const body of ['a,b\n1,"x"y\n', 'a,b\n1,"x" y\n', 'a,b\n1,"multi\nline"y\n']) {
      const error = parseErrorOf(() => parseCsv(body));

      expect(error.errors[0].field).toBe('line 2');
      expect(error.message).toMatch(
        /^a quoted field starting on line 2 has text after its closing quote/,
      );
    }
  });

  it('rejects a column whose cells are all empty, naming it', () => {
    const error = parseErrorOf(() => parseCsv('a,empty,b\n1,,x\n2,"",y\n'));

    expect(error.errors).toEqual([
      {
        field: 'column "empty"',
        message:
          'column 2 ("empty") has no values, every cell is empty: remove the column or fill in at least one value',
      },
    ]);
  });

  it('parses a 200,000-row, 5-column CSV correctly', () => {
    const rowCount = 200_000;
    const lines = ['id,x,label,y,note'];
    for (let i = 0; i < rowCount; i++) {
      const y = i % 10 === 0 ? '' : String(i / 4);
      lines.push(`${i},${(i * 0.001).toFixed(3)},class${i % 3},${y},"note ${i}, quoted"`);
    }
    const data = parseCsv(lines.join('\r\n') + '\r\n');

    expect(data.rowCount).toBe(rowCount);
    expect(data.columns.map((c) => c.type)).toEqual([
      'number',
      'number',
      'string',
      'number',
      'string',
    ]);
    const id = numbers(data, 'id');
    const x = numbers(data, 'x');
    const y = numbers(data, 'y');
    const label = strings(data, 'label');
    const note = strings(data, 'note');
    expect(id.every((value, i) => value === i)).toBe(true);
    expect(x.every((value, i) => value === Number((i * 0.001).toFixed(3)))).toBe(true);
    expect(y.every((value, i) => (i % 10 === 0 ? Number.isNaN(value) : value === i / 4))).toBe(
      true,
    );
    expect(label.every((value, i) => value === `class${i % 3}`)).toBe(true);
    expect(note[rowCount - 1]).toBe(`note ${rowCount - 1}, quoted`);
  });
});

describe('parseCsv on plain files (no quotes, LF line ends: read without csv-parse)', () => {
  /** The same CSV with CRLF line ends, which parseCsv reads with csv-parse. */
  const throughCsvParse = (csv: string) => parseCsv(csv.replace(/\n/g, '\r\n'));

  it('gives the table csv-parse gives for random numbers, empty cells, text and blank lines', () => {
    let state = 7;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const cell = (kind: number): string => {
      const draw = random();
      if (draw < 0.05) return '';
      if (kind === 0) return String((random() - 0.5) * 10 ** Math.floor(random() * 10 - 4));
      if (kind === 1) return (random() * 100).toFixed(Math.floor(random() * 8));
      if (kind === 2) return String(Math.floor(random() * 1e6) - 5e5);
      return draw < 0.9 ? `class ${Math.floor(random() * 3)}` : 'the été of 日本';
    };
    for (let table = 0; table < 20; table++) {
      const lines = ['n0,n1,n2,text,late'];
      for (let row = 0; row < 500; row++) {
        if (random() < 0.02) lines.push('');
        // The last column holds numbers until near its end, then text.
        const late = row === 450 ? 'N/A' : cell(row > 400 ? 1 : 2);
        lines.push([cell(0), cell(1), cell(2), cell(3), late].join(','));
      }
      const csv = lines.join('\n') + (table % 2 ? '\n' : '');

      expect(readPlainCsv(Buffer.from(csv))).not.toBeNull();
      expect(parseCsv(csv)).toEqual(throughCsvParse(csv));
    }
  });

  it('keeps every cell as text once a column turns out to hold text after rows of numbers', () => {
    const data = parseCsv('x,y\n1,1\n\n007,2\n,3\n1.50,4\nabc,5\n');

    expect(strings(data, 'x')).toEqual(['1', '007', null, '1.50', 'abc']);
    expect(numbers(data, 'y')).toEqual([1, 2, 3, 4, 5]);
  });

  it('leaves to csv-parse a file whose columns turn to text late, one after another', () => {
    const width = 8;
    const rows = Array.from({ length: 200 }, (_, row) =>
      Array.from({ length: width }, (_, column) => (row === 199 - column ? 'x' : String(row))),
    );
    const csv = [Array.from({ length: width }, (_, i) => `c${i}`), ...rows]
      .map((cells) => cells.join(','))
      .join('\n');

    expect(readPlainCsv(Buffer.from(csv))).toBeNull();
    expect(strings(parseCsv(csv), 'c7')[192]).toBe('x');
    expect(parseCsv(csv)).toEqual(throughCsvParse(csv));
  });

  it('reads numbers written as pandas writes float64, to the bits of Number(text)', () => {
    const texts = [
      '0.1',
      '-0.0',
      '1e-05',
      '1.2345678901234567e+16',
      '0.30000000000000004',
      '-1.7976931348623157e+308',
      '5e-324',
      '3.0',
    ];
    const values = numbers(parseCsv(`x\n${texts.join('\n')}\n`), 'x');

    values.forEach((value, i) => expect(Object.is(value, Number(texts[i]))).toBe(true));
  });

  it.each([
    ['a cell with a space at its edge', 'a,b\n1, 2\n'],
    ['a cell ending in a no-break space', 'a,b\n1,x\u00a0\n'],
    ['a ragged row', 'a,b\n1,2\n3\n'],
    ['a duplicate column name', 'a,a\n1,2\n'],
    ['an empty column', 'a,b\n1,\n2,\n'],
    ['a header only', 'a,b\n'],
  ])('leaves %s to csv-parse, which reports the same as for CRLF', (_label, csv) => {
    expect(readPlainCsv(Buffer.from(csv))).toBeNull();
    const outcome = (parse: () => TabularData) => {
      try {
        return parse();
      } catch (error) {
        return error instanceof DatasetParseError ? error.errors : error;
      }
    };

    expect(outcome(() => parseCsv(csv))).toEqual(outcome(() => throughCsvParse(csv)));
  });
});

describe('parseRows', () => {
  it('infers number and string columns from JSON cells', () => {
    const data = parseRows(
      ['age', 'city'],
      [
        [31, 'Paris'],
        [47.5, 'Oslo'],
      ],
    );

    expect(data.rowCount).toBe(2);
    expect(numbers(data, 'age')).toEqual([31, 47.5]);
    expect(strings(data, 'city')).toEqual(['Paris', 'Oslo']);
  });

  it('treats null and "" as missing cells', () => {
    const data = parseRows(
      ['n', 's'],
      [
        [null, 'a'],
        ['', null],
        [2, ''],
      ],
    );

    expect(numbers(data, 'n')).toEqual([NaN, NaN, 2]);
    expect(strings(data, 's')).toEqual(['a', null, null]);
  });

  it('makes a column mixing numbers and strings a string column of stringified numbers', () => {
    const data = parseRows(['v'], [[1.5], ['high'], [null], [-3]]);

    expect(strings(data, 'v')).toEqual(['1.5', 'high', null, '-3']);
  });

  it('keeps numeric strings as strings', () => {
    expect(strings(parseRows(['v'], [['1'], ['2']]), 'v')).toEqual(['1', '2']);
  });

  it.each([
    ['true', true, 'the boolean true (send it as 0/1 or as a string)'],
    ['an object', { a: 1 }, 'an object'],
    ['an array', [1], 'an array'],
    ['NaN', NaN, 'NaN, which is not a finite number'],
    ['Infinity', Infinity, 'Infinity, which is not a finite number'],
    ['undefined', undefined, 'of type undefined'],
  ])('rejects a cell holding %s, naming row and column', (_label, cell, description) => {
    const error = parseErrorOf(() =>
      parseRows(
        ['a', 'b'],
        [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, cell],
        ],
      ),
    );

    expect(error.errors).toEqual([
      {
        field: 'rows[3][1]',
        message: `rows[3][1] is ${description}: a cell must be a number, a string or null (null for a missing value)`,
      },
    ]);
  });

  it.each([
    ['missing', undefined],
    ['not an array', 'a,b'],
    ['empty', []],
  ])('rejects columns that are %s', (_label, columns) => {
    const error = parseErrorOf(() => parseRows(columns, [[1]]));

    expect(error.errors).toEqual([
      {
        field: 'columns',
        message: 'columns must be a non-empty array of column names, e.g. ["age", "income"]',
      },
    ]);
  });

  it.each([
    ['missing', undefined],
    ['an object', { 0: [1] }],
    ['empty', []],
  ])('rejects rows that are %s', (_label, rows) => {
    expect(parseErrorOf(() => parseRows(['a'], rows)).errors.map((e) => e.field)).toEqual(['rows']);
  });

  it('reports bad columns and bad rows together when neither is usable', () => {
    expect(parseErrorOf(() => parseRows(null, null)).errors.map((e) => e.field)).toEqual([
      'columns',
      'rows',
    ]);
  });

  it('rejects a column name that is not a string, naming its index', () => {
    const error = parseErrorOf(() => parseRows(['a', 7], [[1, 2]]));

    expect(error.errors).toEqual([
      { field: 'columns[1]', message: 'columns[1] must be a string: the column name' },
    ]);
  });

  it('rejects empty, duplicate and overlong column names with their paths', () => {
    const long = 'x'.repeat(DATASET_LIMITS.maxColumnNameLength + 1);
    const error = parseErrorOf(() => parseRows(['a', '', 'a', long], [[1, 2, 3, 4]]));

    expect(error.errors.map((e) => e.field)).toEqual(['columns[1]', 'columns[2]', 'columns[3]']);
    expect(error.errors[1].message).toBe(
      'the column name "a" is used by columns 1 and 3: column names must be unique, so rename one of them',
    );
  });

  it('rejects more columns than the limit', () => {
    const names = Array.from({ length: DATASET_LIMITS.maxColumns + 1 }, (_, i) => `c${i}`);
    const error = parseErrorOf(() => parseRows(names, [names.map(() => 1)]));

    expect(error.errors).toEqual([
      {
        field: 'columns',
        message:
          'the columns list has 1001 columns but at most 1000 are allowed: drop unused columns or split the dataset',
      },
    ]);
  });

  it('rejects a row that is not an array or has the wrong number of cells, naming the row', () => {
    const error = parseErrorOf(() => parseRows(['a', 'b'], [[1, 2], { a: 1 }, [3], [4, 5, 6]]));

    expect(error.errors).toEqual([
      {
        field: 'rows[1]',
        message: 'rows[1] must be an array with one cell per column (2)',
      },
      {
        field: 'rows[2]',
        message:
          'rows[2] has 1 cells but there are 2 columns: give every row one cell per column, using null for a missing value',
      },
      {
        field: 'rows[3]',
        message:
          'rows[3] has 3 cells but there are 2 columns: give every row one cell per column, using null for a missing value',
      },
    ]);
    expect(error.message).toMatch(
      /^3 problems found in the rows \(all listed\); the first: rows\[1\]/,
    );
  });

  it('rejects a column whose cells are all null or empty, naming it', () => {
    const error = parseErrorOf(() =>
      parseRows(
        ['a', 'b'],
        [
          [1, null],
          [2, ''],
        ],
      ),
    );

    expect(error.errors).toEqual([
      {
        field: 'columns[1]',
        message:
          'column 2 ("b") has no values, every cell is empty: remove the column or fill in at least one value',
      },
    ]);
  });
});

describe('parseRecords', () => {
  it('takes the columns from the first record, in key order, and infers their types', () => {
    const data = parseRecords([
      { label: 'yes', x1: 0.5, x2: 3 },
      { x2: 4, label: 'no', x1: null },
    ]);

    expect(data.columns.map(({ name, type }) => [name, type])).toEqual([
      ['label', 'string'],
      ['x1', 'number'],
      ['x2', 'number'],
    ]);
    expect(numbers(data, 'x1')).toEqual([0.5, NaN]);
    expect(numbers(data, 'x2')).toEqual([3, 4]);
    expect(strings(data, 'label')).toEqual(['yes', 'no']);
  });

  it.each([
    ['missing', undefined],
    ['an object', { a: 1 }],
    ['empty', []],
  ])('rejects records that are %s', (_label, records) => {
    expect(parseErrorOf(() => parseRecords(records)).errors).toEqual([
      {
        field: 'records',
        message:
          'records must be a non-empty array of objects, one per row, e.g. [{"age": 31, "label": "yes"}]',
      },
    ]);
  });

  it('rejects a first record with no keys', () => {
    expect(parseErrorOf(() => parseRecords([{}])).errors).toEqual([
      {
        field: 'records[0]',
        message: 'records[0] has no keys: every record needs one key per column',
      },
    ]);
  });

  it('rejects records that are not plain objects, naming their index', () => {
    const error = parseErrorOf(() => parseRecords([{ a: 1 }, [1], null, 'a', new Date(0)]));

    expect(error.errors.map((e) => e.field)).toEqual([
      'records[1]',
      'records[2]',
      'records[3]',
      'records[4]',
    ]);
    expect(error.errors[0].message).toBe(
      'records[1] must be an object mapping each column name to its cell, e.g. {"age": 31}',
    );
  });

  it('rejects a record missing a key, naming the record and the key', () => {
    const error = parseErrorOf(() =>
      parseRecords([
        { x1: 1, x2: 2 },
        { x1: 3, x2: 4 },
        { x2: 5, other: 6 },
      ]),
    );

    expect(error.errors).toEqual([
      {
        field: 'records[2].x1',
        message:
          'records[2] has no "x1" key: every record needs the same keys as records[0]; use null for a missing value',
      },
      {
        field: 'records[2].other',
        message:
          'records[2] has the key "other", which records[0] does not have: every record needs exactly the keys of records[0]; remove it or add it to every record',
      },
    ]);
  });

  it('rejects a record with an extra key', () => {
    const error = parseErrorOf(() => parseRecords([{ a: 1 }, { a: 2, b: 3 }]));

    expect(error.errors.map((e) => e.field)).toEqual(['records[1].b']);
  });

  it('writes keys that are not identifiers in bracket notation', () => {
    const error = parseErrorOf(() => parseRecords([{ 'my col': 1 }, { 'my col': true }]));

    expect(error.errors[0].field).toBe('records[1]["my col"]');
  });

  it('rejects bad cells, naming record and key', () => {
    const error = parseErrorOf(() => parseRecords([{ x1: 1 }, { x1: [2] }]));

    expect(error.errors).toEqual([
      {
        field: 'records[1].x1',
        message:
          'records[1].x1 is an array: a cell must be a number, a string or null (null for a missing value)',
      },
    ]);
  });

  it('rejects an empty key as an empty column name, with a bracketed path', () => {
    const error = parseErrorOf(() => parseRecords([{ a: 1, '': 2 }]));

    expect(error.errors).toEqual([
      {
        field: 'records[0][""]',
        message: 'column 2 has an empty name: give every column a non-blank name',
      },
    ]);
  });

  it('rejects a column whose cells are all null, naming it', () => {
    const error = parseErrorOf(() =>
      parseRecords([
        { a: 1, b: null },
        { a: 2, b: null },
      ]),
    );

    expect(error.errors).toEqual([
      {
        field: 'records[*].b',
        message:
          'column 2 ("b") has no values, every cell is empty: remove the column or fill in at least one value',
      },
    ]);
  });
});

describe('the same table in every upload format', () => {
  const csv = 'id,label,score,note\n1,cat,0.5,\n2,dog,,"a, b"\n3,cat,-0,x\n';
  const columns = ['id', 'label', 'score', 'note'];
  const rows = [
    [1, 'cat', 0.5, null],
    [2, 'dog', null, 'a, b'],
    [3, 'cat', -0, 'x'],
  ];
  const records = rows.map((row) => Object.fromEntries(columns.map((name, i) => [name, row[i]])));

  it('parses to equal tables', () => {
    const fromCsv = parseCsv(csv);

    expect(parseRows(columns, rows)).toEqual(fromCsv);
    expect(parseRecords(records)).toEqual(fromCsv);
  });

  it('has the same checksum whether uploaded as CSV, JSON rows or JSON records', () => {
    const checksum = checksumOf(encodeTabularData(parseCsv(csv)));

    expect(checksumOf(encodeTabularData(parseRows(columns, rows)))).toBe(checksum);
    expect(checksumOf(encodeTabularData(parseRecords(records)))).toBe(checksum);
    expect(checksumOf(encodeTabularData(parseCsv(`\ufeff${csv.replace(/\n/g, '\r\n')}`)))).toBe(
      checksum,
    );
  });

  it('has a different checksum once a single value changes', () => {
    const checksum = checksumOf(encodeTabularData(parseCsv(csv)));

    expect(checksumOf(encodeTabularData(parseCsv(csv.replace('0.5', '0.25'))))).not.toBe(checksum);
    expect(checksumOf(encodeTabularData(parseCsv(csv.replace('-0', '0'))))).not.toBe(checksum);
  });
});
