import { randomBytes } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import {
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import * as path from 'node:path';
import {
  checkObjectKey,
  InvalidObjectKeyError,
  isKeySegment,
  type ObjectStorage,
  type StoredObject,
} from './object-storage';

const TEMP_SUFFIX = '.tmp';

/** Codes that mean "there is no object under this key". */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/** Where it was defined first; the rule is the same for every store now. */
export { InvalidObjectKeyError };

/** A file found under the root that is not an object: a write that never reached its rename. */
export interface StoredEntry {
  key: string;
  /** Absolute path of the file. */
  file: string;
  modifiedMs: number;
  size: number;
}

/**
 * Objects as files under one directory (`DATA_DIR/objects`): `datasets/<uuid>` is the file
 * `objects/datasets/<uuid>`. A put writes a temporary file beside the target, fsyncs it, renames it
 * over the target and fsyncs the directory, so a reader or a crash sees the old object or the new
 * one, never part of one; a crash before the rename leaves only a temporary file, which the
 * start-up sweep removes (StoredObjectsSweeper).
 */
export class FileObjectStorage implements ObjectStorage {
  /** Directories known to exist durably (created and their parent fsynced) in this process. */
  private readonly ready = new Set<string>();

  constructor(readonly root: string) {}

  /** The file that holds `key`'s bytes (whether or not it exists). Throws on an invalid key. */
  pathOf(key: string): string {
    checkObjectKey(key);
    const file = path.join(this.root, ...key.split('/'));
    // Belt and braces: the pattern already rules out anything that leaves the root.
    const relative = path.relative(this.root, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new InvalidObjectKeyError(`object key ${JSON.stringify(key)} leaves the store`);
    }
    return file;
  }

  localFile(key: string): string {
    return this.pathOf(key);
  }

  async put(key: string, content: Buffer): Promise<void> {
    await this.replace(key, async (temp) => {
      const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  /** Renames `source` into place when it is on the same filesystem, else copies it. */
  async putFile(key: string, source: string): Promise<void> {
    await this.replace(key, async (temp) => {
      try {
        await rename(source, temp);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        await copyFile(source, temp, constants.COPYFILE_EXCL);
        await rm(source, { force: true });
      }
      const handle = await open(temp, constants.O_RDONLY);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /**
   * Every file under the root, as objects (by key) and temporary files. Other entries (a file
   * whose name is not a valid key) are left out: nothing here wrote them.
   */
  async list(): Promise<{ objects: StoredEntry[]; temporary: StoredEntry[] }> {
    const objects: StoredEntry[] = [];
    const temporary: StoredEntry[] = [];
    const walk = async (directory: string, prefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const file = path.join(directory, entry.name);
        if (entry.isDirectory()) {
          if (isKeySegment(entry.name)) await walk(file, `${prefix}${entry.name}/`);
          continue;
        }
        if (!entry.isFile()) continue;
        const isTemp = entry.name.startsWith('.') && entry.name.endsWith(TEMP_SUFFIX);
        if (!isTemp && !isKeySegment(entry.name)) continue;
        let stats: Stats;
        try {
          stats = await stat(file);
        } catch (error) {
          if (isMissing(error)) continue;
          throw error;
        }
        const found = {
          key: `${prefix}${entry.name}`,
          file,
          modifiedMs: stats.mtimeMs,
          size: stats.size,
        };
        (isTemp ? temporary : objects).push(found);
      }
    };
    await walk(this.root, '');
    return { objects, temporary };
  }

  async *objects(): AsyncIterable<StoredObject> {
    for (const { key, size, modifiedMs } of (await this.list()).objects) {
      yield { key, size, modifiedMs };
    }
  }

  /** Removes a file `list` returned (an orphaned object or a temporary file); gone is fine. */
  async remove(entry: StoredEntry): Promise<void> {
    await rm(entry.file, { force: true });
  }

  /**
   * Replaces `key`'s file with what `writeTemp` leaves, durably written, at a temporary path beside
   * it: a rename, then a directory fsync. A failure leaves no temporary file behind.
   */
  private async replace(key: string, writeTemp: (temp: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    const directory = path.dirname(target);
    await this.ensureDirectory(directory);
    const temp = path.join(
      directory,
      `.${path.basename(target)}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`,
    );
    try {
      await writeTemp(temp);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(directory);
  }

  /**
   * Creates `directory` (and the root) on first use, fsyncing each new entry's parent, so a put
   * that returned survives a power cut together with the directory it is in.
   */
  private async ensureDirectory(directory: string): Promise<void> {
    if (this.ready.has(directory)) return;
    const chain: string[] = [];
    for (let dir = directory; ; dir = path.dirname(dir)) {
      chain.unshift(dir);
      if (dir === this.root || path.dirname(dir) === dir) break;
    }
    for (const dir of chain) {
      if (this.ready.has(dir)) continue;
      const created = await mkdir(dir, { recursive: true });
      if (created !== undefined) await syncDirectory(path.dirname(dir));
      this.ready.add(dir);
    }
  }
}

function isMissing(error: unknown): boolean {
  return MISSING.has((error as NodeJS.ErrnoException)?.code ?? '');
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
