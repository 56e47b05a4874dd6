/**
 * Where large immutable bytes live (dataset contents, model artifacts, reference samples), by key:
 * files under DATA_DIR (FileObjectStorage, the default on SQLite), rows of the database every
 * replica and worker shares (DatabaseObjectStorage, the default on PostgreSQL), or an S3-compatible
 * bucket (S3ObjectStorage); OBJECT_STORE chooses.
 */
export interface ObjectStorage {
  /** Stores `content` under `key`, replacing what was there. */
  put(key: string, content: Buffer): Promise<void>;
  /**
   * Stores the local file `source` under `key`, replacing what was there, and takes the file: it
   * is moved or copied into the store and is gone from `source` once this resolves. For contents
   * too large to hold in memory (a dataset written while an upload streams in).
   */
  putFile(key: string, source: string): Promise<void>;
  /** The bytes under `key`, or null when there are none. */
  get(key: string): Promise<Buffer | null>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every object the store holds, in no particular order (copying between stores lists them). */
  objects(): AsyncIterable<StoredObject>;
  /**
   * The local file that holds `key`'s bytes, for a store that keeps objects as files, so that a
   * reader in another thread can open it and read only what it needs. Absent: no such file.
   */
  localFile?(key: string): string;
  /**
   * For a store outside this process and its database (a bucket): rejects, saying why, when it
   * cannot be reached with the configured settings and credentials. Readiness calls it.
   */
  probe?(): Promise<void>;
}

export interface StoredObject {
  key: string;
  size: number;
  /** When it was last written, as the store's clock says. */
  modifiedMs: number;
}

export const OBJECT_STORAGE = Symbol('ObjectStorage');

/**
 * A key is one or more `/`-separated segments of letters, digits, `.`, `_` and `-`, none starting
 * with `.`: so no `..`, no absolute path, no backslash, and no key can name a temporary file of
 * the file store (those start with `.`). Our keys are `datasets/<uuid>`, `artifacts/<uuid>`,
 * `references/<uuid>`. Every store checks it, so an object can move between stores.
 */
const KEY_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
export const MAX_KEY_LENGTH = 512;

export class InvalidObjectKeyError extends Error {}

export function checkObjectKey(key: string): void {
  if (key.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(key)) {
    throw new InvalidObjectKeyError(
      `object key ${JSON.stringify(key.slice(0, 100))} is not one or more "/"-separated ` +
        'segments of letters, digits, ".", "_" and "-" that do not start with "."',
    );
  }
}

/** Whether `name` can be one segment of a key (a file or directory name in the file store). */
export function isKeySegment(name: string): boolean {
  return !name.includes('/') && KEY_PATTERN.test(name);
}
