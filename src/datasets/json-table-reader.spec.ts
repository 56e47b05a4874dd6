import fc from 'fast-check';
import { parse as secureJsonParse } from 'secure-json-parse';
import { checkJsonText } from '../common/strict-json';
import { BufferSource } from './byte-source';
import { MemoryColumns } from './column-output';
import { summarizeColumn } from './column-stats';
import { parseRecords, parseRows } from './dataset-parser';
import { JsonReadOptions, JsonTableReader } from './json-table-reader';
import { DatasetParseError, TabularData } from './tabular-data';

const BODY: JsonReadOptions = { bareArrayIsRecords: false, refusePrototypeKeys: true };
const FILE: JsonReadOptions = { bareArrayIsRecords: true, refusePrototypeKeys: false };

/** The reader over `text`, its bytes arriving in pieces of `step` bytes. */
function read(text: string, options: JsonReadOptions, step = 7) {
  const bytes = Buffer.from(text, 'utf8');
  const reader = new JsonTableReader(new BufferSource(bytes), new MemoryColumns(), options);
  for (let available = step; available < bytes.length && !reader.settled; available += step) {
    reader.advance(available, false);
  }
  reader.advance(bytes.length, true);
  return reader.finish();
}

/** What the in-memory path made of the same text (JSON.parse, strict-json, parseRows/Records). */
function readWhole(text: string, options: JsonReadOptions) {
  let body: unknown;
  try {
    body = options.refusePrototypeKeys
      ? secureJsonParse(text, { protoAction: 'error', constructorAction: 'error' })
      : JSON.parse(text);
  } catch (error) {
    if (/forbidden prototype/.test(String(error))) return { malformed: 'prototypeKey' };
    return { malformed: text === '' && options.refusePrototypeKeys ? 'empty' : 'syntax' };
  }
  const problem = checkJsonText(text);
  if (problem) return { malformed: 'duplicateKey' in problem ? problem : 'tooDeep' };
  if (options.bareArrayIsRecords && Array.isArray(body)) body = { records: body };
  if (typeof body !== 'object' || body === null) return { top: 'other' };
  if (Array.isArray(body)) return { top: 'array' };
  const { name, columns, rows, records } = body as Record<string, unknown>;
  const unknownKeys = Object.keys(body).filter(
    (key) => !['name', 'columns', 'rows', 'records'].includes(key),
  );
  const ownName = Object.hasOwn(body, 'name') ? { value: name } : undefined;
  let table: unknown;
  try {
    if (records !== undefined && (columns !== undefined || rows !== undefined)) {
      table = { problem: { message: 'Send either records or columns + rows, not both.' } };
    } else if (records !== undefined) {
      table = tableOf(parseRecords(records));
    } else if (columns === undefined || rows === undefined) {
      table = {
        problem: {
          message: 'Send the table as columns + rows, or as records.',
          errors: [{ field: columns === undefined ? 'columns' : 'rows', message: 'is required' }],
        },
      };
    } else {
      table = tableOf(parseRows(columns, rows));
    }
  } catch (error) {
    if (!(error instanceof DatasetParseError)) throw error;
    table = { problem: { message: error.message, errors: error.errors } };
  }
  return { top: 'object', unknownKeys, ownName: shallow(ownName), table };
}

function tableOf(data: TabularData) {
  return { data, columns: data.columns.map(summarizeColumn) };
}

/** The streamed reading, in readWhole's terms. */
function readStreamed(text: string, options: JsonReadOptions, step?: number) {
  const reading = read(text, options, step);
  if ('malformed' in reading) {
    const problem = reading.malformed;
    if ('syntax' in problem) return { malformed: 'syntax' };
    // A file part words an empty file as JSON.parse does (dataset-uploads.ts).
    if ('empty' in problem) return { malformed: options.refusePrototypeKeys ? 'empty' : 'syntax' };
    if ('prototypeKey' in problem) return { malformed: 'prototypeKey' };
    return { malformed: 'tooDeep' in problem ? 'tooDeep' : problem };
  }
  if (reading.top !== 'object' && !(reading.top === 'array' && options.bareArrayIsRecords)) {
    return { top: reading.top };
  }
  const table =
    'problem' in reading.table
      ? {
          problem: reading.table.problem.errors?.length
            ? reading.table.problem
            : { message: reading.table.problem.message },
        }
      : { data: reading.table.read.result, columns: reading.table.read.columns };
  return { top: 'object', unknownKeys: reading.unknownKeys, ownName: reading.ownName, table };
}

/** A name kept one level deep, as the reader keeps it (only its being a string matters). */
function shallow(name: { value: unknown } | undefined) {
  if (!name || typeof name.value !== 'object' || name.value === null) return name;
  const empty = (value: unknown) =>
    value !== null && typeof value === 'object' ? (Array.isArray(value) ? [] : {}) : value;
  return {
    value: Array.isArray(name.value)
      ? name.value.map(empty)
      : Object.fromEntries(Object.entries(name.value).map(([key, value]) => [key, empty(value)])),
  };
}

function expectSame(text: string, options = BODY) {
  const whole = readWhole(text, options);
  // Problems without a field list compare by message only (InvalidInputError's).
  if ('table' in whole && 'problem' in (whole.table as object)) {
    const { problem } = whole.table as { problem: { message: string; errors?: unknown } };
    if (!problem.errors) whole.table = { problem: { message: problem.message } };
  }
  for (const step of [1, 5, 4096]) expect(readStreamed(text, options, step)).toEqual(whole);
}

describe('JsonTableReader', () => {
  it.each([
    ['columns and rows', '{"name":"d","columns":["a","b"],"rows":[[1,"x"],[2.5,null],[null,""]]}'],
    ['rows before columns', '{"rows":[[1,"x"],[2,"y"]],"columns":["a","b"],"name":"d"}'],
    ['records, keys in any order', '{"records":[{"b":"x","a":1},{"a":2,"b":"y"}]}'],
    ['integer-like keys first, as JSON.parse orders them', '{"records":[{"b":1,"2":3,"1":4}]}'],
    ['a column turning to text late', `{"columns":["a"],"rows":[${'[1],'.repeat(5000)}["x"]]}`],
    ['a missing key', '{"records":[{"a":1,"b":2},{"a":3}]}'],
    ['an extra key', '{"records":[{"a":1},{"a":3,"c":4}]}'],
    ['a bad cell naming its row', '{"columns":["a"],"rows":[[1],[true],[[2]],[{"x":1}],[1e999]]}'],
    ['ragged rows', '{"columns":["a","b"],"rows":[[1,2],[3],"no"]]}'],
    ['an empty column', '{"columns":["a","b"],"rows":[[1,null],[2,""]]}'],
    ['bad column names', '{"columns":["a",3,"a"],"rows":[[1,2,3]]}'],
    [
      'too many columns',
      `{"columns":${JSON.stringify(Array.from({ length: 1001 }, (_, i) => `c${i}`))},"rows":[[1]]}`,
    ],
    ['records and rows', '{"records":[{"a":1}],"rows":[[1]]}'],
    ['no rows', '{"columns":["a"]}'],
    ['empty rows', '{"columns":["a"],"rows":[]}'],
    ['rows not an array', '{"columns":"a","rows":{"a":1}}'],
    ['records not objects', '{"records":[1,2]}'],
    ['a first record without keys', '{"records":[{}]}'],
    ['unknown keys', '{"name":"d","zeta":{"a":[1]},"1":2,"records":[{"a":1}]}'],
    ['a name that is an object', '{"name":{"a":{"b":1}},"records":[{"a":1}]}'],
    ['a bare array', '[{"a":1},{"a":2}]'],
    ['a number', '42'],
    ['a string', '"x"'],
    ['a duplicate key', '{"records":[{"a":1,"a":2}]}'],
    [
      'a duplicate key after a nest too deep',
      `{"x":${'['.repeat(70)}${']'.repeat(70)},"y":1,"y":2}`,
    ],
    ['a __proto__ key', '{"records":[{"__proto__":1}]}'],
    ['a constructor.prototype key', '{"x":{"constructor":{"prototype":1}}}'],
    ['a constructor key alone', '{"records":[{"constructor":1}]}'],
    ['trailing text', '{"records":[{"a":1}]} x'],
    ['a missing comma', '{"records":[{"a":1} {"a":2}]}'],
    ['a missing colon', '{"records" [{"a":1}]}'],
    ['a truncated body', '{"records":[{"a":1}'],
    ['white space only', '  '],
    ['nothing', ''],
    [
      'escapes and unicode',
      '{"columns":["\\u00e9t\\u00e9","日本"],"rows":[["🚀\\n",1],["x\\"y",2]]}',
    ],
  ])('reads %s as the in-memory path does', (_label, text) => {
    expectSame(text, BODY);
    expectSame(text, FILE);
  });

  it('reads any JSON value as the in-memory path does', () => {
    const cell = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.constantFrom('', 'x', '1', null, true, [], {}),
      fc.string(),
    );
    const names = fc.array(fc.constantFrom('a', 'b', 'c', '1', ' '), {
      minLength: 0,
      maxLength: 4,
    });
    const table = fc.oneof(
      fc.record({
        columns: names,
        rows: fc.array(fc.array(cell, { maxLength: 4 }), { maxLength: 8 }),
      }),
      fc.record({
        records: fc.array(fc.dictionary(fc.constantFrom('a', 'b', 'c', '2'), cell), {
          maxLength: 8,
        }),
      }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(table, (body) => {
        const text = JSON.stringify(body);
        expectSame(text, BODY);
        expectSame(text, FILE);
      }),
      { numRuns: 1000 },
    );
  });
});
