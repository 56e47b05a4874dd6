import { authHeaders, makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';

const CSV = 'x1,x2,y\n1,2,3.5\n2,1,3.9\n3,3,6.1\n';

/** Uploading a CSV the ways curl users do: a form, text/plain, and what happens otherwise. */
describe('dataset uploads', () => {
  let dataDir: string;
  let api: TestApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir, { DATASET_BODY_LIMIT_BYTES: '4096' });
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  /** What `curl -F file=@<filename>` sends, with any extra form fields. */
  async function postForm(
    url: string,
    parts: Record<string, string | { content: string; filename: string; type?: string }>,
  ) {
    const form = new FormData();
    for (const [field, value] of Object.entries(parts)) {
      if (typeof value === 'string') form.append(field, value);
      else form.append(field, new Blob([value.content], { type: value.type }), value.filename);
    }
    const response = await fetch(api.baseUrl + url, {
      method: 'POST',
      headers: authHeaders(),
      body: form,
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: JSON.parse(text),
    };
  }

  const datasetNames = async () =>
    (await api.request('GET', '/v1/datasets?limit=100')).body.items.map(
      (d: { name: string }) => d.name,
    );

  it('takes a multipart form: the file part holds the CSV, the file name names the dataset', async () => {
    const res = await postForm('/v1/datasets', {
      file: { content: CSV, filename: 'house prices.csv', type: 'text/csv' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'house-prices', rowCount: 3 });
    expect(res.body.columns.map((c: { name: string }) => c.name)).toEqual(['x1', 'x2', 'y']);
    const rows = await api.request('GET', `/v1/datasets/${res.body.id}/rows`);
    expect(rows.body.rows).toEqual([
      [1, 2, 3.5],
      [2, 1, 3.9],
      [3, 3, 6.1],
    ]);
  });

  it('lets ?name= win over the file name', async () => {
    const res = await postForm('/v1/datasets?name=chosen', {
      file: { content: CSV, filename: 'data.csv', type: 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('chosen');
  });

  it('takes the name from a name field of the form, refusing an invalid one', async () => {
    const named = await postForm('/v1/datasets', {
      file: { content: CSV, filename: 'data.csv', type: 'text/csv' },
      name: 'from-field',
    });
    expect(named.status).toBe(201);
    expect(named.body.name).toBe('from-field');
    const invalid = await postForm('/v1/datasets', {
      name: 'no spaces allowed',
      file: { content: CSV, filename: 'data.csv', type: 'text/csv' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([{ field: 'name', message: expect.any(String) }]);
  });

  it('reads a JSON file in the form, keeping its own name', async () => {
    const res = await postForm('/v1/datasets', {
      file: {
        content: JSON.stringify({ name: 'from-json', records: [{ a: 1 }, { a: 2 }] }),
        filename: 'export.json',
        type: 'application/json',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'from-json', rowCount: 2 });
  });

  it('answers a file over the dataset limit with 413 naming the limit and its setting', async () => {
    const big = 'x,y\n' + '123456789,987654321\n'.repeat(400);
    const before = await datasetNames();
    const res = await postForm('/v1/datasets?name=too-big', {
      file: { content: big, filename: 'big.csv', type: 'text/csv' },
    });
    expect(res.status).toBe(413);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(/4096 bytes/);
    expect(res.body.detail).toMatch(/DATASET_BODY_LIMIT_BYTES/);
    expect(await datasetNames()).toEqual(before);
  });

  it('answers a form without a file part with 400 saying so', async () => {
    const res = await postForm('/v1/datasets?name=nothing', {
      data: { content: CSV, filename: 'data.csv' },
      note: 'hello',
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/no file part named "file" \(it has data, note\)/);
    expect(res.body.detail).toMatch(/curl -F file=@data\.csv/);
    expect(res.body.errors).toEqual([{ field: 'file', message: expect.any(String) }]);
  });

  it('asks for ?name= when the file name makes no dataset name', async () => {
    const res = await postForm('/v1/datasets', {
      file: { content: CSV, filename: '---.csv', type: 'text/csv' },
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/pass one as \?name=/);
  });

  it('reads text/plain as CSV (what many curl lines send for a file)', async () => {
    const res = await api.request('POST', '/v1/datasets?name=plain', CSV, {
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'plain', rowCount: 3 });
  });

  it('refuses JSON labelled text/plain with advice instead of reading it as a CSV', async () => {
    const res = await api.request('POST', '/v1/datasets', '{"name":"j","records":[{"a":1}]}', {
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/looks like JSON/);
    expect(res.body.detail).toMatch(/Content-Type: application\/json/);
  });

  it('answers form-urlencoded (curl --data-binary without a type) with 415 and the three ways', async () => {
    const res = await api.request('POST', '/v1/datasets?name=x', CSV, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const { detail } = res.body;
    expect(detail).toMatch(/application\/x-www-form-urlencoded is not read here/);
    expect(detail).toMatch(/curl -H 'Content-Type: text\/csv' --data-binary @data\.csv/);
    expect(detail).toMatch(/curl -H 'Content-Type: application\/json' -d /);
    expect(detail).toMatch(/curl -F file=@data\.csv/);
    // Curl lines against the address the client used, ready to paste.
    expect(detail).toContain(`'${api.baseUrl}/v1/datasets?name=my-data'`);
  });

  it('tells other routes to send JSON, for any other media type', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'text/csv']) {
      const res = await api.request('POST', '/v1/models', 'name=m', { 'content-type': type });
      expect(res.status).toBe(415);
      expect(res.body.detail).toMatch(/Send JSON: curl -H 'Content-Type: application\/json'/);
      expect(res.body.detail).not.toMatch(/multipart/);
    }
    // A form posted to a route that takes JSON: a 415 too, not a list of "missing" fields.
    const form = await postForm('/v1/training-jobs', {
      file: { content: '{"dataset":"d","model":"m","target":"y"}', filename: 'job.json' },
    });
    expect(form.status).toBe(415);
    expect(form.body.detail).toMatch(/multipart\/form-data.*is not read here\. Send JSON: curl/);
  });

  it('reads a form on the model route as an ONNX file, and says how to send a JSON artifact instead', async () => {
    const form = await postForm('/v1/models/house-prices/versions', {
      file: { content: '{"format":"modeldock/v2"}', filename: 'artifact.json' },
    });
    expect(form.status).toBe(400);
    expect(form.body.detail).toMatch(/looks like JSON.*Content-Type: application\/json/);
  });
});
