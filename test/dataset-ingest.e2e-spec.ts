import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { summarizeColumn } from '../src/datasets/column-stats';
import { checksumOf, encodeTabularData } from '../src/datasets/column-codec';
import { parseCsv, parseRecords, parseRows } from '../src/datasets/dataset-parser';
import { requestJson, ServiceProcess, spawnService } from './support/service-process';
import { authHeaders, makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';
import { onPostgres } from './support/test-database';

const MiB = 1024 * 1024;

/** `rows` rows of a CSV with a number column, one with empty cells, one that turns to text late, and text. */
function mixedCsv(rows: number, lineEnd = '\n'): string {
  const lines = ['id,measure,code,label'];
  for (let row = 0; row < rows; row++) {
    const measure = row % 7 === 0 ? '' : (row * 0.37).toFixed(row % 4);
    // Numbers for most of the file, then text: its earlier cells keep their own text (007, 1.50).
    const code = row === rows - 10 ? 'N/A' : row % 5 === 0 ? `00${row % 9}` : `${row % 3}.50`;
    lines.push(`${row},${measure},${code},class ${row % 4}`);
  }
  return lines.join(lineEnd) + lineEnd;
}

/** The rows of mixedCsv as JSON cells: numbers, missing cells (null, ""), a column turning to text. */
function mixedRows(rows: number): (number | string | null)[][] {
  return Array.from({ length: rows }, (_, row) => [
    row,
    row % 7 === 0 ? (row % 2 ? null : '') : row * 0.37,
    row === rows - 10 ? 'N/A' : row % 5 === 0 ? row % 9 : (row % 3) + 0.5,
    `class ${row % 4}`,
  ]);
}
const MIXED_COLUMNS = ['id', 'measure', 'code', 'label'];

/** The path of a dataset's stored encoding (the default file store). */
const storedFile = (dataDir: string, id: string) => path.join(dataDir, 'objects', 'datasets', id);

const stagingDir = (dataDir: string) => path.join(dataDir, 'staging', 'datasets');

/** CSV uploads are read as streams, a window at a time, in a thread; what they store is unchanged. */
describe('streaming dataset ingest', () => {
  let dataDir: string;
  let api: TestApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    // What a crash left mid-upload two hours ago, and what an upload elsewhere is writing now.
    const staging = stagingDir(dataDir);
    mkdirSync(path.join(staging, 'crashed'), { recursive: true });
    writeFileSync(path.join(staging, 'crashed', 'upload.csv'), 'x\n1\n');
    const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(path.join(staging, 'crashed', 'upload.csv'), longAgo, longAgo);
    utimesSync(path.join(staging, 'crashed'), longAgo, longAgo);
    mkdirSync(path.join(staging, 'in-progress'), { recursive: true });
    api = await startApp(dataDir, { DATASET_BODY_LIMIT_BYTES: String(32 * MiB) });
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  const upload = (name: string, csv: string | Buffer) =>
    api.request('POST', `/v1/datasets?name=${name}`, csv, { 'content-type': 'text/csv' });

  const datasetCount = async () => (await api.request('GET', '/v1/datasets')).body.total;

  it('removes the staging directory an interrupted upload left, at start-up, and keeps a recent one', () => {
    expect(readdirSync(stagingDir(dataDir)).sort()).toEqual(['in-progress']);
  });

  it.each([
    ['plain (read without csv-parse)', '\n'],
    ['with CRLF line ends (read by csv-parse)', '\r\n'],
  ])(
    'stores a %s CSV of several windows byte for byte as encodeTabularData encodes it',
    async (_label, lineEnd) => {
      const csv = mixedCsv(220_000, lineEnd); // about 6 MB: two windows and a part
      expect(csv.length).toBeGreaterThan(5 * MiB);
      const table = parseCsv(csv);
      const expected = encodeTabularData(table);

      const res = await upload('mixed', csv);

      expect(res.status).toBe(201);
      expect(res.body.rowCount).toBe(220_000);
      expect(res.body.checksum).toBe(checksumOf(expected));
      expect(res.body.sizeBytes).toBe(expected.length);
      // The file store's object itself; the database store (on PostgreSQL) keeps the same bytes.
      if (!onPostgres()) {
        expect(readFileSync(storedFile(dataDir, res.body.id)).equals(expected)).toBe(true);
      }
      expect(res.body.columns).toEqual(
        table.columns.map(summarizeColumn).map(({ name, type, missing }) => ({
          name,
          type,
          missing,
        })),
      );
      expect(table.columns.map((column) => column.type)).toEqual([
        'number',
        'number',
        'string',
        'string',
      ]);
    },
  );

  const postJson = (body: string | Buffer, query = '') =>
    api.request('POST', `/v1/datasets${query}`, body, { 'content-type': 'application/json' });

  /** The stored dataset is byte for byte what encodeTabularData gives for `table`. */
  const expectStoredAs = (
    res: { status: number; body: any },
    table: ReturnType<typeof parseRows>,
  ) => {
    const expected = encodeTabularData(table);
    expect(res.status).toBe(201);
    expect(res.body.rowCount).toBe(table.rowCount);
    expect(res.body.checksum).toBe(checksumOf(expected));
    expect(res.body.sizeBytes).toBe(expected.length);
    if (!onPostgres()) {
      expect(readFileSync(storedFile(dataDir, res.body.id)).equals(expected)).toBe(true);
    }
    expect(res.body.columns).toEqual(
      table.columns
        .map(summarizeColumn)
        .map(({ name, type, missing }) => ({ name, type, missing })),
    );
  };

  it('stores a JSON upload of columns and rows, streamed, byte for byte as encodeTabularData encodes it', async () => {
    const rows = mixedRows(200_000);
    // `rows` before `columns`: read as they go by, then again once the columns are known.
    for (const body of [
      JSON.stringify({ name: 'json-rows', columns: MIXED_COLUMNS, rows }),
      JSON.stringify({ rows, columns: MIXED_COLUMNS, name: 'json-rows-first' }),
    ]) {
      expect(body.length).toBeGreaterThan(5 * MiB);
      expectStoredAs(await postJson(body), parseRows(MIXED_COLUMNS, rows));
    }
  });

  it('stores JSON records (keys in any order) and a bare records array in a form as the in-memory path does', async () => {
    const records = mixedRows(100_000).map(([id, measure, code, label], row) =>
      row % 2 ? { id, measure, code, label } : { label, code, measure, id },
    );
    expectStoredAs(
      await postJson(JSON.stringify({ records }), '?name=json-records'),
      parseRecords(records),
    );

    const form = new FormData();
    form.append(
      'file',
      new Blob([JSON.stringify(records)], { type: 'application/json' }),
      'export.json',
    );
    const response = await fetch(`${api.baseUrl}/v1/datasets`, {
      method: 'POST',
      headers: authHeaders(),
      body: form,
    });
    const body = (await response.json()) as { name: string };
    expectStoredAs({ status: response.status, body }, parseRecords(records));
    expect(body.name).toBe('export');
  });

  it('answers bad JSON uploads as a body read whole was answered', async () => {
    const before = await datasetCount();
    const rows = JSON.stringify(mixedRows(150_000));

    const badCell = await postJson(
      `{"name":"bad-cell","columns":${JSON.stringify(MIXED_COLUMNS)},"rows":${rows.slice(0, -1)},[1,true,3,"x"]]}`,
    );
    expect(badCell.status).toBe(400);
    expect(badCell.body.errors).toEqual([
      { field: 'rows[150000][1]', message: expect.stringMatching(/the boolean true/) },
    ]);

    const duplicate = await postJson(
      `{"name":"dup","columns":["a"],"rows":${rows.slice(0, -1)},[{"x":1,"x":2}]]}`,
    );
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.detail).toBe(
      'The JSON body has the key "x" twice in one object; send each key once.',
    );

    const deep = await postJson(
      `{"name":"deep","records":[{"a":${'['.repeat(80)}${']'.repeat(80)}}]}`,
    );
    expect(deep.status).toBe(400);
    expect(deep.body.detail).toBe('The JSON body is nested deeper than 64 levels; flatten it.');

    const truncated = await postJson(`{"name":"cut","columns":["a"],"rows":${rows.slice(0, -100)}`);
    expect(truncated.status).toBe(400);
    expect(truncated.body.title).toBe('Malformed JSON');

    const proto = await postJson('{"name":"p","records":[{"__proto__":1}]}');
    expect(proto.status).toBe(400);
    expect(proto.body.detail).toMatch(/"__proto__" or "constructor.prototype" key/);

    const empty = await postJson('');
    expect(empty.status).toBe(400);
    expect(empty.body.title).toBe('Malformed JSON');

    const tooLarge = await postJson(Buffer.alloc(33 * MiB, '['));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.detail).toMatch(/DATASET_BODY_LIMIT_BYTES/);

    expect(await datasetCount()).toBe(before);
    expect(readdirSync(stagingDir(dataDir))).toEqual(['in-progress']);
  });

  it('answers bad CSVs deep in a streamed upload with 400 naming the line', async () => {
    const before = await datasetCount();
    const good = mixedCsv(200_000);
    const lines = good.split('\n');

    const ragged = [...lines.slice(0, 150_000), '1,2', ...lines.slice(150_000)].join('\n');
    const raggedRes = await upload('ragged', ragged);
    expect(raggedRes.status).toBe(400);
    expect(raggedRes.body.errors).toEqual([{ field: 'line 150001', message: expect.any(String) }]);

    const quote = [...lines.slice(0, 180_000), '1,2,"unclosed,x', ...lines.slice(180_000)].join(
      '\n',
    );
    const quoteRes = await upload('bad-quote', quote);
    expect(quoteRes.status).toBe(400);
    expect(quoteRes.body.detail).toMatch(/a quoted field starting on line 180001 is never closed/);

    const longLine = `${lines.slice(0, 1000).join('\n')}\n1,2,3,${'x'.repeat(10 * MiB)}\n4,5,6,7\n`;
    const longRes = await upload('long-line', longLine);
    expect(longRes.status).toBe(400);
    expect(longRes.body.detail).toMatch(/the row on line 1001 is longer than 4194304 characters/);

    const empty = await upload('empty', '\n\n');
    expect(empty.status).toBe(400);
    expect(empty.body.detail).toMatch(/the CSV is empty/);

    expect(await datasetCount()).toBe(before);
  });

  it('leaves no staging file and no dataset row when an upload fails', async () => {
    const before = await datasetCount();
    const tooLarge = await upload('too-large', Buffer.alloc(33 * MiB, '1\n'));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.detail).toMatch(/DATASET_BODY_LIMIT_BYTES/);
    const noName = await api.request('POST', '/v1/datasets', mixedCsv(10), {
      'content-type': 'text/csv',
    });
    expect(noName.status).toBe(400);
    const ragged = await upload('ragged', 'a,b\n1,2\n3\n');
    expect(ragged.status).toBe(400);

    expect(await datasetCount()).toBe(before);
    expect(readdirSync(stagingDir(dataDir))).toEqual(['in-progress']);
  });
});

/** Peak resident memory of a process so far (Linux: VmHWM), in bytes. */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmHWM:\s+(\d+) kB/.exec(status);
  if (!kib) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kib[1]) * 1024;
}

/** With the file store (the default on SQLite): the database store reads an encoding whole to store it. */
const withFileStore = onPostgres() ? describe.skip : describe;

withFileStore('streaming dataset ingest in a service process', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = makeDataDir();
    service = await spawnService(dataDir, {
      env: { DATASET_BODY_LIMIT_BYTES: String(512 * MiB) },
    });
  }, 60_000);

  afterAll(async () => {
    await service?.kill();
    removeDataDir(dataDir);
  });

  it("adds less than half a 200 MiB CSV's size to the service's peak memory while it uploads", async () => {
    // 200 MiB of rows of 20 numbers: read whole, the body and its columns alone would be 350 MiB.
    const block = Buffer.from(
      Array.from({ length: 2000 }, (_, row) =>
        Array.from({ length: 20 }, (_, column) => ((row * 31 + column * 7) % 1000) / 8).join(','),
      ).join('\n') + '\n',
    );
    const copies = Math.ceil((200 * MiB) / block.length);
    const header = Buffer.from(Array.from({ length: 20 }, (_, i) => `x${i}`).join(',') + '\n');
    const body = Buffer.concat([header, ...Array.from({ length: copies }, () => block)]);
    // A small upload first: the ingest thread's own memory (a V8 isolate and its code) is a fixed
    // cost, paid whatever the size; what follows is what the size costs.
    const small = Buffer.concat([header, block]);
    const warmUp = await requestJson(service.baseUrl, 'POST', '/v1/datasets?name=small', small, {
      headers: { 'content-type': 'text/csv' },
    });
    expect(warmUp.status).toBe(201);
    const before = peakRss(service.child.pid!);

    const res = await requestJson(service.baseUrl, 'POST', '/v1/datasets?name=big', body, {
      headers: { 'content-type': 'text/csv' },
    });

    expect(res.status).toBe(201);
    expect(res.body.rowCount).toBe(copies * 2000);
    const added = peakRss(service.child.pid!) - before;
    // Read whole, the body, its columns and their encoding were held at once: over twice its size.
    expect(added).toBeLessThan(body.length / 2);
  }, 60_000);
  it("adds less than half a 200 MiB JSON upload's size to the service's peak memory while it uploads", async () => {
    // 200 MiB of rows of 20 numbers, as { name, columns, rows }.
    const block = Buffer.from(
      Array.from(
        { length: 2000 },
        (_, row) =>
          `[${Array.from({ length: 20 }, (_, column) => ((row * 31 + column * 7) % 1000) / 8).join(',')}]`,
      ).join(',') + ',',
    );
    const copies = Math.ceil((200 * MiB) / block.length);
    const columns = JSON.stringify(Array.from({ length: 20 }, (_, i) => `x${i}`));
    const head = Buffer.from(`{"name":"big-json","columns":${columns},"rows":[`);
    const last = Buffer.from(`[${Array(20).fill(0).join(',')}]]}`);
    const body = Buffer.concat([head, ...Array.from({ length: copies }, () => block), last]);
    const small = Buffer.concat([head, block, last]);
    const warmUp = await requestJson(service.baseUrl, 'POST', '/v1/datasets', small, {
      headers: { 'content-type': 'application/json' },
    });
    expect(warmUp.status).toBe(201);
    const before = peakRss(service.child.pid!);

    const res = await requestJson(service.baseUrl, 'POST', '/v1/datasets', body, {
      headers: { 'content-type': 'application/json' },
    });

    expect(res.status).toBe(201);
    expect(res.body.rowCount).toBe(copies * 2000 + 1);
    const added = peakRss(service.child.pid!) - before;
    // Read whole, the text alone (UTF-16 or Latin-1 string) and its parsed rows were several times its size.
    expect(added).toBeLessThan(body.length / 2);
  }, 120_000);
});
