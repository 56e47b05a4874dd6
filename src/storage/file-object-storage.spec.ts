import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { loadAppConfig } from '../config/app.config';
import { FileObjectStorage, InvalidObjectKeyError } from './file-object-storage';
import { StoredObjectsSweeper } from './stored-objects-sweeper';

const KEY = 'datasets/0b6f2c1e-7a43-4f0a-9d1e-2b7c5a9e8f10';

describe('FileObjectStorage', () => {
  let root: string;
  let storage: FileObjectStorage;

  beforeEach(() => {
    root = path.join(mkdtempSync(path.join(tmpdir(), 'modeldock-objects-')), 'objects');
    storage = new FileObjectStorage(root);
  });

  afterEach(() => rmSync(path.dirname(root), { recursive: true, force: true }));

  it('gives back exactly the bytes put under a key, as a file under the root', async () => {
    const content = Buffer.from([0, 1, 2, 250, 255, 0, 42]);
    await storage.put(KEY, content);
    expect(await storage.get(KEY)).toEqual(content);
    expect(storage.pathOf(KEY)).toBe(path.join(root, 'datasets', KEY.split('/')[1]));
  });

  it('replaces the object on a second put and leaves no temporary file behind', async () => {
    await storage.put(KEY, Buffer.from('old'));
    await storage.put(KEY, Buffer.from('new'));
    expect((await storage.get(KEY))?.toString()).toBe('new');
    expect(readdirSync(path.join(root, 'datasets'))).toEqual([KEY.split('/')[1]]);
  });

  it('takes a local file into the store by putFile, leaving no source or temporary file', async () => {
    const source = path.join(path.dirname(root), 'upload.bin');
    writeFileSync(source, Buffer.from([9, 8, 7, 0, 255]));
    await storage.put(KEY, Buffer.from('old'));
    await storage.putFile(KEY, source);
    expect(await storage.get(KEY)).toEqual(Buffer.from([9, 8, 7, 0, 255]));
    expect(readdirSync(path.dirname(root))).toEqual(['objects']);
    expect(readdirSync(path.join(root, 'datasets'))).toEqual([KEY.split('/')[1]]);
  });

  it('keeps the old object and the source when putFile is given a file that is not there', async () => {
    await storage.put(KEY, Buffer.from('old'));
    await expect(storage.putFile(KEY, path.join(root, 'no-such-file'))).rejects.toThrow(/ENOENT/);
    expect((await storage.get(KEY))?.toString()).toBe('old');
    expect(readdirSync(path.join(root, 'datasets'))).toEqual([KEY.split('/')[1]]);
  });

  it('answers null for a key never stored, or below an object', async () => {
    expect(await storage.get(KEY)).toBeNull();
    await storage.put('artifacts/a', Buffer.from('x'));
    expect(await storage.get('artifacts/a/b')).toBeNull();
  });

  it('deletes an object, and deleting a missing one is not an error', async () => {
    await storage.put(KEY, Buffer.from('x'));
    await storage.delete(KEY);
    expect(await storage.get(KEY)).toBeNull();
    await expect(storage.delete(KEY)).resolves.toBeUndefined();
    await expect(storage.delete('never/stored')).resolves.toBeUndefined();
  });

  it.each([
    '',
    '..',
    '../outside',
    'datasets/../../etc/passwd',
    'datasets/..',
    '/etc/passwd',
    'datasets//x',
    'datasets/',
    '.hidden',
    'datasets/.x.0123.tmp',
    'datasets\\..\\x',
    'datasets/x\0',
    'datasets/ x',
    'c:/windows',
    `datasets/${'a'.repeat(510)}`,
  ])('refuses the key %s before touching the disk', async (key) => {
    await expect(storage.put(key, Buffer.from('x'))).rejects.toThrow(InvalidObjectKeyError);
    await expect(storage.get(key)).rejects.toThrow(InvalidObjectKeyError);
    await expect(storage.delete(key)).rejects.toThrow(InvalidObjectKeyError);
    expect(readdirSync(path.dirname(root))).toEqual([]);
  });

  it('lists objects by key and temporary files apart, skipping files that are neither', async () => {
    await storage.put(KEY, Buffer.from('x'));
    await storage.put('references/v1', Buffer.from('y'));
    writeFileSync(path.join(root, 'datasets', `.${KEY.split('/')[1]}.abcd.tmp`), 'partial');
    writeFileSync(path.join(root, 'datasets', 'not a key'), 'z');
    mkdirSync(path.join(root, '.trash'));
    writeFileSync(path.join(root, '.trash', 'y'), 'z');
    const { objects, temporary } = await storage.list();
    expect(objects.map((entry) => entry.key).sort()).toEqual([KEY, 'references/v1']);
    expect(temporary.map((entry) => entry.file)).toEqual([
      path.join(root, 'datasets', `.${KEY.split('/')[1]}.abcd.tmp`),
    ]);
  });

  it('keeps the old object when the process is killed between writing the new one and renaming it', async () => {
    await storage.put(KEY, Buffer.from('old contents'));
    // A child process stores a new version and is SIGKILLed at the rename.
    const script = `
      const fs = require('node:fs/promises');
      const { FileObjectStorage } = require(${JSON.stringify(require.resolve('./file-object-storage'))});
      fs.rename = () => process.kill(process.pid, 'SIGKILL');
      new FileObjectStorage(${JSON.stringify(root)}).put(${JSON.stringify(KEY)}, Buffer.from('new contents'));
    `;
    const run = promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      { cwd: path.resolve(__dirname, '../..') },
    );
    await expect(run).rejects.toMatchObject({ signal: 'SIGKILL' });
    expect((await storage.get(KEY))?.toString()).toBe('old contents');
    const { temporary } = await storage.list();
    expect(temporary).toHaveLength(1);
    // What is left is the whole new object, fsynced, that never replaced the old one.
    expect(readdirSync(path.join(root, 'datasets')).sort()).toEqual(
      [KEY.split('/')[1], path.basename(temporary[0].file)].sort(),
    );

    // The next start removes it; the old object stays.
    const sweeper = new StoredObjectsSweeper(storage, loadAppConfig({ DATA_DIR: root }));
    await sweeper.onModuleInit();
    expect((await storage.list()).temporary).toEqual([]);
    expect((await storage.get(KEY))?.toString()).toBe('old contents');
  }, 30_000);
});
