import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { threadFile } from '../common/thread-file';
import { appConfig, AppConfig } from '../config/app.config';
import type { IngestOutcome, IngestProgress, IngestTask } from './dataset-ingest.thread';

/** Bytes gathered before they are written to the spool and the thread told. */
const SPOOL_WRITE_BYTES = 1 << 20;
/** Staging directories left by a crash are removed at the next start once they are this old. */
const STALE_STAGING_MS = 60 * 60 * 1000;
/** Uploads parsed at once; more wait for a thread (their bytes still spool as they arrive). */
const INGEST_THREADS = 2;

/** A CSV or JSON upload received into a staging directory, and the thread's reading of it. */
export interface StagedCsv {
  /** Resolves once the thread has read the whole upload (or met an error in it). */
  outcome: Promise<IngestOutcome>;
  /** Removes the staging directory and everything in it (the encoding too, unless moved away). */
  discard(): Promise<void>;
}

/**
 * CSV and JSON uploads, streamed: the body's bytes are appended to a spool file in a staging directory of
 * their own (DATA_DIR/staging/datasets/<uuid>) as they arrive, and the ingest thread
 * (dataset-ingest.thread.ts) reads the spool as it grows, writes the columns beside it and assembles
 * the dataset's encoding there, hashed as it is written. Nothing holds the whole upload: the event
 * loop holds up to 1 MiB of it, the thread a window of it (plain-csv-reader.ts).
 */
@Injectable()
export class DatasetIngest implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Datasets');
  private readonly directory: string;
  private readonly pool: Piscina<IngestTask, IngestOutcome>;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.directory = path.join(config.dataDir, 'staging', 'datasets');
    this.pool = new Piscina({
      ...threadFile(__dirname, 'dataset-ingest.thread'),
      minThreads: 0,
      maxThreads: INGEST_THREADS,
      idleTimeout: 30_000,
    });
  }

  /** Removes what uploads interrupted by a crash left (not those of another live process). */
  async onModuleInit(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch {
      return; // no upload yet
    }
    for (const entry of entries) {
      const directory = path.join(this.directory, entry);
      try {
        if (Date.now() - (await newestChange(directory)) > STALE_STAGING_MS) {
          await rm(directory, { recursive: true, force: true });
          this.logger.log(`removed the staging directory of an interrupted upload: ${directory}`);
        }
      } catch {
        // Removed meanwhile.
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }

  /**
   * Spools `bytes` while the thread reads them; resolves once every byte is spooled, with the
   * thread's outcome still to come. An error from `bytes` (a body over its limit, a broken form)
   * is thrown here once the thread has let go of the staging directory, which is then removed.
   */
  async stage(
    bytes: AsyncIterable<Buffer>,
    format: IngestTask['format'] = 'csv',
  ): Promise<StagedCsv> {
    const directory = path.join(this.directory, randomUUID());
    await mkdir(directory, { recursive: true });
    const spool = path.join(directory, format === 'csv' ? 'upload.csv' : 'upload.json');
    const { port1, port2 } = new MessageChannel();
    let settled = false;
    let outcome: Promise<IngestOutcome> | null = null;
    const discard = async () => {
      port1.close();
      await outcome?.catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    };
    try {
      const file = await open(spool, 'wx');
      try {
        outcome = this.pool.run({ spool, directory, port: port2, format } satisfies IngestTask, {
          transferList: [port2],
        });
        outcome.then(
          () => (settled = true),
          () => (settled = true),
        );
        let written = 0;
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const flush = async (ended: boolean) => {
          // Once the thread has its answer (an error in the CSV or JSON), the rest is only counted.
          if (!settled && pendingBytes > 0) {
            await file.writev(pending);
            written += pendingBytes;
          }
          pending = [];
          pendingBytes = 0;
          if (!settled) port1.postMessage({ written, ended } satisfies IngestProgress);
        };
        for await (const chunk of bytes) {
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= SPOOL_WRITE_BYTES) await flush(false);
        }
        await flush(true);
      } finally {
        await file.close();
      }
    } catch (error) {
      await discard();
      throw error;
    }
    return { outcome: outcome!, discard };
  }
}

/** The latest modification time of a directory's entries (a spool grows while its upload runs). */
async function newestChange(directory: string): Promise<number> {
  let newest = (await stat(directory)).mtimeMs;
  for (const entry of await readdir(directory)) {
    try {
      newest = Math.max(newest, (await stat(path.join(directory, entry))).mtimeMs);
    } catch {
      // Removed meanwhile.
    }
  }
  return newest;
}
