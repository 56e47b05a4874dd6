import {
  authHeaders,
  makeDataDir,
  removeDataDir,
  startApp,
  TestApp,
  waitForJob,
} from './support/test-app';

/**
 * Swagger UI's "Try it out" with nothing changed: each operation's default request example (the
 * media type's `example`, else its first `examples` entry, else one built from the schema's property
 * examples, as Swagger UI builds it) and its path and query parameter examples. Run in the order a
 * newcomer follows them, every one succeeds against the real app.
 */
type Schema = Record<string, any>;

describe('OpenAPI examples', () => {
  let dataDir: string;
  let api: TestApp;
  let doc: any;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    doc = (await api.request('GET', '/docs-json')).body;
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  const resolve = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;

  /** What Swagger UI shows for a schema: its example, else one built from its parts. */
  const sample = (given: Schema | undefined): unknown => {
    const schema = resolve(given);
    if (!schema) return undefined;
    if (schema.example !== undefined) return schema.example;
    if (schema.allOf) return Object.assign({}, ...schema.allOf.map(sample));
    if (schema.enum) return schema.enum[0];
    if (schema.type === 'array') return [sample(schema.items)];
    if (schema.properties) {
      return Object.fromEntries(
        Object.entries<Schema>(schema.properties)
          .filter(([, property]) => !property.readOnly)
          .map(([name, property]) => [name, sample(property)]),
      );
    }
    return { string: 'string', number: 0, integer: 0, boolean: true }[schema.type as string];
  };

  const operationOf = (method: string, template: string) => {
    const operation = doc.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${template} is not in the OpenAPI document`);
    return operation;
  };

  /** The default request body of one media type. */
  const defaultBody = (method: string, template: string, mediaType = 'application/json') => {
    const content = operationOf(method, template).requestBody?.content?.[mediaType];
    if (!content) throw new Error(`${method} ${template} takes no ${mediaType} body`);
    if (content.example !== undefined) return content.example;
    const examples = Object.values<{ value: unknown }>(content.examples ?? {});
    return examples.length > 0 ? examples[0].value : sample(content.schema);
  };

  /** The URL with every path parameter's example, and each query parameter that has one. */
  const urlOf = (method: string, template: string) => {
    const query = new URLSearchParams();
    let url = template;
    for (const parameter of operationOf(method, template).parameters ?? []) {
      const example = parameter.example ?? parameter.schema?.example;
      if (parameter.in === 'path') {
        expect([method, template, parameter.name, example]).not.toContainEqual(undefined);
        url = url.replace(`{${parameter.name}}`, encodeURIComponent(String(example)));
      } else if (parameter.in === 'query' && example !== undefined) {
        for (const value of [example].flat()) query.append(parameter.name, String(value));
      }
    }
    return query.size > 0 ? `${url}?${query}` : url;
  };

  /** Sends the default request; expects a 2xx (the failure shows the answer). */
  const tryItOut = async (method: string, template: string, mediaType = 'application/json') => {
    const takesBody = operationOf(method, template).requestBody !== undefined;
    const body = takesBody ? defaultBody(method, template, mediaType) : undefined;
    const headers: Record<string, string> = takesBody ? { 'content-type': mediaType } : {};
    const url = urlOf(method, template);
    const sent = typeof body === 'string' || body === undefined ? body : JSON.stringify(body);
    const res = await api.request(method, url, sent, headers);
    // The whole answer in the failure message: it says what in the example is wrong.
    expect(
      `${method} ${url} (${mediaType}): ${res.status} ${res.status < 300 ? '' : res.text}`,
    ).toBe(`${method} ${url} (${mediaType}): ${res.status} `);
    expect(res.status).toBeGreaterThanOrEqual(200);
    return res;
  };

  it('uploads the dataset example as JSON, and the CSV example (CSV text) too', async () => {
    const json = await tryItOut('POST', '/v1/datasets');
    expect(json.body).toMatchObject({ name: 'sales', rowCount: 10 });
    const csv = defaultBody('POST', '/v1/datasets', 'text/csv');
    expect(typeof csv).toBe('string');
    expect(csv).toMatch(/^x1,x2,y\n1,1,6\n/);
    const fromCsv = await tryItOut('POST', '/v1/datasets', 'text/csv');
    // The same table, whichever way it arrives.
    expect(fromCsv.body).toMatchObject({ name: 'sales', checksum: json.body.checksum });
    // The multipart form Swagger UI offers: one `file` part (here, the CSV example as sales.csv).
    const form = operationOf('POST', '/v1/datasets').requestBody.content['multipart/form-data'];
    expect(form.schema.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    const body = new FormData();
    body.append('file', new Blob([csv], { type: 'text/csv' }), 'sales.csv');
    const upload = await fetch(`${api.baseUrl}/v1/datasets`, {
      method: 'POST',
      headers: authHeaders(),
      body,
    });
    expect(upload.status).toBe(201);
    expect(await upload.json()).toMatchObject({ name: 'sales', checksum: json.body.checksum });
  });

  it('creates the model, then trains it on the dataset given by name', async () => {
    expect((await tryItOut('POST', '/v1/models')).body).toMatchObject({ name: 'sales-forecast' });
    const job = await tryItOut('POST', '/v1/training-jobs');
    expect(await waitForJob(api, job.body.id)).toMatchObject({
      status: 'succeeded',
      model: 'sales-forecast',
      modelVersion: 1,
    });
  });

  it('reads and updates the model, its versions and its alias with their examples', async () => {
    await tryItOut('GET', '/v1/models');
    await tryItOut('GET', '/v1/models/{name}');
    await tryItOut('PATCH', '/v1/models/{name}');
    await tryItOut('GET', '/v1/models/{name}/events');
    await tryItOut('GET', '/v1/models/{name}/versions');
    await tryItOut('GET', '/v1/models/{name}/versions/{version}');
    await tryItOut('PATCH', '/v1/models/{name}/versions/{version}');
    await tryItOut('GET', '/v1/models/{name}/versions/{version}/artifact');
    await tryItOut('PUT', '/v1/models/{name}/aliases/{alias}');
    expect((await tryItOut('GET', '/v1/models/{name}/aliases/{alias}')).body).toMatchObject({
      model: 'sales-forecast',
      version: 1,
    });
    const imported = await tryItOut('POST', '/v1/models/{name}/versions');
    expect(imported.body).toMatchObject({ model: 'sales-forecast', version: 2 });
    await tryItOut('GET', '/v1/datasets');
    await tryItOut('GET', '/v1/training-jobs');
  });

  it('predicts with the predict example, and infers with the Open Inference examples', async () => {
    const predicted = await tryItOut('POST', '/v1/models/{name}/predict');
    expect(predicted.body.predictions).toEqual([expect.any(Number)]);
    // y = 2·x1 + 3·x2 + 1 at (1.5, 2): 10, whichever version answers.
    expect(predicted.body.predictions[0]).toBeCloseTo(10, 0);
    await tryItOut('GET', '/v2');
    await tryItOut('GET', '/v2/models/{name}');
    await tryItOut('GET', '/v2/models/{name}/ready');
    await tryItOut('GET', '/v2/models/{name}/versions/{version}');
    await tryItOut('GET', '/v2/models/{name}/versions/{version}/ready');
    for (const template of [
      '/v2/models/{name}/infer',
      '/v2/models/{name}/versions/{version}/infer',
    ]) {
      const inferred = await tryItOut('POST', template);
      expect(inferred.body.outputs[0].data[0]).toBeCloseTo(10, 0);
    }
  });
});
