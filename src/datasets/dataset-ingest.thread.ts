// The ingest thread: parses a CSV or JSON upload from the file it is spooled to while it arrives,
// a window at a time, into column files assembled into the dataset's encoding (csv-table-reader.ts,
// json-table-reader.ts, column-output.ts), so that a large upload never holds the event loop.
// Imports the readers only, never Nest or the database.
import { closeSync, openSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { lowerThisThreadPriority } from '../common/thread-priority';
import type { FieldError } from '../common/errors';
import { FileSource } from './byte-source';
import { EncodedFile, SpooledColumns } from './column-output';
import { CsvTableReader } from './csv-table-reader';
import { JsonReadOptions, JsonReading, JsonTableReader } from './json-table-reader';
import type { ReadTable } from './table-columns';
import { DatasetParseError } from './tabular-data';

// Predictions first: on a busy core the event loop gets most of it (common/thread-priority.ts).
lowerThisThreadPriority();

export interface IngestTask {
  /** The file the upload is spooled to; only its first `written` bytes (see IngestProgress) are there. */
  spool: string;
  /** Where the column files and the encoding go. */
  directory: string;
  /** IngestProgress messages; closing it abandons the ingest. */
  port: MessagePort;
  /** How the upload is written: CSV with a header row, or a JSON dataset body. */
  format: 'csv' | { json: JsonReadOptions };
}

/** The spool now holds `written` bytes; `ended`: the upload is complete. */
export interface IngestProgress {
  written: number;
  ended: boolean;
}

export type IngestOutcome =
  | { table: ReadTable<EncodedFile> }
  /** The CSV is malformed: a DatasetParseError's message and list. */
  | { invalid: { message: string; errors: FieldError[] } }
  /** A JSON upload, read: what it says, to be checked in order by the caller. */
  | { json: JsonReading<EncodedFile> }
  | { abandoned: true };

export default function ingest(task: IngestTask): Promise<IngestOutcome> {
  return task.format === 'csv' ? ingestCsv(task) : ingestJson(task, task.format.json);
}

function ingestJson(task: IngestTask, options: JsonReadOptions): Promise<IngestOutcome> {
  return readAsSpooled(task, (source, columns) => {
    const reader = new JsonTableReader(source, columns, options);
    return (written, ended) => {
      reader.advance(written, ended);
      // Not JSON: the rest of the upload need not be read.
      return ended || reader.settled ? { json: reader.finish() } : null;
    };
  });
}

function ingestCsv(task: IngestTask): Promise<IngestOutcome> {
  return readAsSpooled(task, (source, columns) => {
    const reader = new CsvTableReader(source, columns);
    return (written, ended) => {
      try {
        reader.advance(written, ended);
        return ended ? { table: reader.finish() } : null;
      } catch (error) {
        if (!(error instanceof DatasetParseError)) throw error;
        return { invalid: { message: error.message, errors: error.errors } };
      }
    };
  });
}

/**
 * Feeds a reader the spool as the event loop reports it written, until the reader has an outcome
 * (`advance` returns one) or the upload is abandoned (the port closes).
 */
function readAsSpooled(
  task: IngestTask,
  open: (
    source: FileSource,
    columns: SpooledColumns,
  ) => (written: number, ended: boolean) => IngestOutcome | null,
): Promise<IngestOutcome> {
  const fd = openSync(task.spool, 'r');
  const advance = open(new FileSource(fd), new SpooledColumns(task.directory));
  return new Promise<IngestOutcome>((resolve, reject) => {
    const settle = (outcome: IngestOutcome | Error) => {
      task.port.removeAllListeners();
      task.port.close();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    task.port.on('message', ({ written, ended }: IngestProgress) => {
      try {
        const outcome = advance(written, ended);
        if (outcome) settle(outcome);
      } catch (error) {
        settle(error as Error);
      }
    });
    task.port.on('close', () => settle({ abandoned: true }));
  }).finally(() => closeSync(fd));
}
