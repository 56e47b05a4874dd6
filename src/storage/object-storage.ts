/**
 * Where large immutable bytes live (dataset contents, model artifacts), by key. Every API replica
 * and worker reads the same store, so none of them keeps data on its own disk. The database is the
 * default; an S3-compatible bucket fits the same three calls.
 */
export interface ObjectStorage {
  /** Stores `content` under `key`, replacing what was there. */
  put(key: string, content: Buffer): Promise<void>;
  /** The bytes under `key`, or null when there are none. */
  get(key: string): Promise<Buffer | null>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
}

export const OBJECT_STORAGE = Symbol('ObjectStorage');
