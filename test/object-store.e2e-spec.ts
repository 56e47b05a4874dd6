import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { FileObjectStorage } from '../src/storage/file-object-storage';
import { lineDataset } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

/**
 * The file store (OBJECT_STORE=file, the default on SQLite; set here so the e2e-postgres project
 * runs it too): what the service keeps lands under DATA_DIR/objects, training reads its columns
 * from there, and a start removes what no row refers to.
 */
describe('objects as files under DATA_DIR/objects', () => {
  let dataDir: string;
  let api: TestApp;
  let files: FileObjectStorage;
  let datasetId: string;
  let versionId: string;

  const start = () => startApp(dataDir, { OBJECT_STORE: 'file' });
  const backdate = (file: string) => {
    // Older than the grace a shared directory gets (PostgreSQL), as a crash long ago leaves it.
    const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(file, longAgo, longAgo);
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    files = new FileObjectStorage(path.join(dataDir, 'objects'));
    api = await start();
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('keeps a dataset, its trained version and the version’s reference samples as files', async () => {
    const dataset = await api.request('POST', '/v1/datasets', lineDataset('line'));
    expect(dataset.status).toBe(201);
    datasetId = dataset.body.id;
    const job = await api.request('POST', '/v1/training-jobs', {
      model: 'line',
      dataset: datasetId,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0,
      seed: 1,
    });
    expect(job.status).toBe(202);
    expect(await waitForJob(api, job.body.id)).toMatchObject({ status: 'succeeded' });
    const [version] = await api.app.get(DataSource).query('SELECT id FROM model_versions');
    versionId = version.id;

    expect(existsSync(files.pathOf(`datasets/${datasetId}`))).toBe(true);
    expect(existsSync(files.pathOf(`artifacts/${versionId}`))).toBe(true);
    expect(existsSync(files.pathOf(`references/${versionId}`))).toBe(true);
    const predicted = await api.request('POST', '/v1/models/line/predict', {
      instances: [[2, 1]],
    });
    expect(predicted.status).toBe(200);
    expect(predicted.body.predictions[0]).toBeCloseTo(1 + 2 * 2 - 3 * 1, 6);
  });

  it('removes at the next start the objects no row refers to and unfinished writes, and keeps the rest', async () => {
    await api.close();
    const strays = [
      'datasets/99999999-9999-4999-8999-999999999999',
      'artifacts/99999999-9999-4999-8999-999999999999',
      'references/99999999-9999-4999-8999-999999999999',
    ];
    for (const key of strays) {
      await files.put(key, Buffer.from('left by a crash'));
      backdate(files.pathOf(key));
    }
    const temp = path.join(dataDir, 'objects', 'datasets', `.${datasetId}.0123456789abcdef.tmp`);
    writeFileSync(temp, 'half a dataset');
    backdate(temp);

    api = await start();
    for (const key of strays) expect(await files.get(key)).toBeNull();
    expect(readdirSync(path.dirname(temp))).toEqual([datasetId]);
    const rows = await api.request('GET', `/v1/datasets/${datasetId}/rows?limit=2`);
    expect(rows.status).toBe(200);
    expect(rows.body.rows).toEqual([
      [0, 0, 1],
      [1, 3, -6],
    ]);
    expect((await api.request('GET', '/v1/models/line/versions/1/artifact')).status).toBe(200);
    expect(existsSync(files.pathOf(`references/${versionId}`))).toBe(true);
  });

  it('removes a dataset’s file when the dataset is deleted', async () => {
    const extra = await api.request('POST', '/v1/datasets', lineDataset('spare'));
    expect(existsSync(files.pathOf(`datasets/${extra.body.id}`))).toBe(true);
    expect((await api.request('DELETE', `/v1/datasets/${extra.body.id}`)).status).toBe(204);
    expect(existsSync(files.pathOf(`datasets/${extra.body.id}`))).toBe(false);
  });
});

describe('upgrading an installation whose objects are rows of stored_objects', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = makeDataDir();
  });

  afterAll(() => removeDataDir(dataDir));

  it('moves them to files at the first start with the file store, and serves them from there', async () => {
    // An installation from before ObjectsAsFiles: objects in the database, the migration not run.
    let api = await startApp(dataDir, { OBJECT_STORE: 'database' });
    const dataset = await api.request('POST', '/v1/datasets', lineDataset('old'));
    expect(dataset.status).toBe(201);
    const job = await api.request('POST', '/v1/training-jobs', {
      model: 'old',
      dataset: dataset.body.id,
      target: 'y',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0,
      seed: 1,
    });
    expect(await waitForJob(api, job.body.id)).toMatchObject({ status: 'succeeded' });
    const artifact = await api.request('GET', '/v1/models/old/versions/1/artifact');
    const database = api.app.get(DataSource);
    const [{ id: versionId }] = await database.query('SELECT id FROM model_versions');
    const before: { object_key: string; content: Buffer }[] = await database.query(
      'SELECT object_key, content FROM stored_objects ORDER BY object_key',
    );
    expect(before.map((row) => row.object_key)).toEqual([
      `artifacts/${versionId}`,
      `datasets/${dataset.body.id}`,
      `references/${versionId}`,
    ]);
    await database.query("DELETE FROM migrations WHERE name = 'ObjectsAsFiles1764800000000'");
    await api.close();

    api = await startApp(dataDir, { OBJECT_STORE: 'file' });
    try {
      const files = new FileObjectStorage(path.join(dataDir, 'objects'));
      for (const row of before) {
        expect((await files.get(row.object_key))?.equals(Buffer.from(row.content))).toBe(true);
      }
      expect(await api.app.get(DataSource).query('SELECT object_key FROM stored_objects')).toEqual(
        [],
      );
      const rows = await api.request('GET', `/v1/datasets/${dataset.body.id}/rows?limit=1`);
      expect(rows.body.rows).toEqual([[0, 0, 1]]);
      const again = await api.request('GET', '/v1/models/old/versions/1/artifact');
      expect(again.text).toBe(artifact.text);
      expect(again.headers.get('etag')).toBe(artifact.headers.get('etag'));
    } finally {
      await api.close();
    }
  });
});
