import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { appConfig, AppConfig } from '../config/app.config';
import { FileObjectStorage } from './file-object-storage';
import { OBJECT_STORAGE, ObjectStorage, StoredObject } from './object-storage';

/** Which keys under a prefix rows still refer to, as the module that owns them knows. */
export type ReferencedKeys = () => Promise<Iterable<string>>;

/**
 * With other processes writing the same directory, a put they made moments before this start may
 * not have committed its row yet: only what is older than this is theirs to have abandoned.
 */
export const SHARED_STORE_GRACE_MS = 60 * 60 * 1000;

/** Keys named in the log line; the count covers the rest. */
const KEYS_LOGGED = 20;

export interface SweepOutcome {
  temporary: string[];
  orphans: string[];
}

/**
 * Removes, at start-up, what a crash can leave in the object store: temporary files of puts that
 * never reached their rename (the file store), and objects no row refers to (stored before a row
 * that never committed, or left by a delete that did not finish). Each module that keeps objects
 * claims its prefix and says which keys its rows refer to; objects under a prefix nobody claimed
 * are kept.
 *
 * The file store is swept in onModuleInit, before anything can write (jobs resume and HTTP opens
 * later), touching only files last modified before the sweep began. When this process is the only
 * one writing the directory (SQLite without Redis) that is all it needs; otherwise it leaves files
 * younger than SHARED_STORE_GRACE_MS to a later start. The stores other processes share (database
 * rows, a bucket) are swept the same way with the same grace, but in the background once the app
 * has started: listing a large bucket must not hold up readiness.
 */
@Injectable()
export class StoredObjectsSweeper
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('Storage');
  private readonly owners = new Map<string, ReferencedKeys>();
  /** The background sweep of a shared store, while it runs. */
  private background: Promise<void> | null = null;
  private stopping = false;

  constructor(
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** Called by an owning module (in its constructor): `prefix` is e.g. `datasets`. */
  claim(prefix: string, referenced: ReferencedKeys): void {
    if (this.owners.has(prefix)) throw new Error(`object prefix ${prefix} is claimed twice`);
    this.owners.set(prefix, referenced);
  }

  async onModuleInit(): Promise<void> {
    if (!(this.storage instanceof FileObjectStorage)) return;
    const soleWriter = this.config.database.type === 'sqlite' && this.config.redis === null;
    const outcome = await this.sweep(
      this.storage,
      Date.now() - (soleWriter ? 0 : SHARED_STORE_GRACE_MS),
    );
    this.report(`object store at ${this.storage.root}`, outcome);
  }

  onApplicationBootstrap(): void {
    if (this.storage instanceof FileObjectStorage) return;
    const storage = this.storage;
    this.background = this.sweep(storage, Date.now() - SHARED_STORE_GRACE_MS)
      .then((outcome) => this.report(`object store (${this.config.objectStore.kind})`, outcome))
      .catch((error: unknown) => {
        if (!this.stopping) {
          this.logger.warn(`object store sweep failed, to be tried at the next start: ${error}`);
        }
      });
  }

  /** Waits for a background sweep, which stops at its next object, so it outlives no connection. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.background;
  }

  /** Waits for the background sweep started at bootstrap, if any (for tests). */
  async settled(): Promise<void> {
    await this.background;
  }

  private report(store: string, outcome: SweepOutcome): void {
    const removed = [...outcome.temporary, ...outcome.orphans];
    if (removed.length === 0) return;
    const named = removed.slice(0, KEYS_LOGGED).join(', ');
    const more = removed.length > KEYS_LOGGED ? ` and ${removed.length - KEYS_LOGGED} more` : '';
    this.logger.log(
      `${store}: removed ${outcome.temporary.length} temporary ` +
        `file(s) of unfinished writes and ${outcome.orphans.length} object(s) no row refers to ` +
        `(${named}${more})`,
    );
  }

  /** Removes what is older than `cutoffMs` and unclaimed by a row; says what went. */
  async sweep(storage: ObjectStorage, cutoffMs: number): Promise<SweepOutcome> {
    const outcome: SweepOutcome = { temporary: [], orphans: [] };
    if (storage instanceof FileObjectStorage) {
      for (const entry of (await storage.list()).temporary) {
        if (entry.modifiedMs >= cutoffMs) continue;
        await storage.remove(entry);
        outcome.temporary.push(entry.key);
      }
    }
    // Objects first, rows second: a row committed in between keeps its object.
    const byPrefix = new Map<string, StoredObject[]>();
    for await (const object of storage.objects()) {
      if (this.stopping) return outcome;
      const prefix = object.key.split('/')[0];
      if (!this.owners.has(prefix) || object.modifiedMs >= cutoffMs) continue;
      const group = byPrefix.get(prefix);
      if (group) group.push(object);
      else byPrefix.set(prefix, [object]);
    }
    for (const [prefix, objects] of byPrefix) {
      const referenced = new Set(await this.owners.get(prefix)!());
      for (const { key } of objects) {
        if (this.stopping) return outcome;
        if (referenced.has(key)) continue;
        await storage.delete(key);
        outcome.orphans.push(key);
      }
    }
    return outcome;
  }
}
