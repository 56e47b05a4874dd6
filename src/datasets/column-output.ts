import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import {
  encodedNumberBytes,
  encodeTabularPrefix,
  HeaderColumn,
  stringBlockBytes,
} from './column-codec';
import { Column, TabularData } from './tabular-data';

/**
 * Which texts of a column: its values, or (while it is a number column read by csv-parse) its
 * cells' texts kept aside in case a later cell turns it into a string column.
 */
export type TextStream = 'values' | 'shadow';

/**
 * Where a table's columns go as they are read, a batch at a time, in row order: kept in memory
 * (MemoryColumns), or written to one file per column and assembled into the MDTB encoding at the
 * end (SpooledColumns). Calls name columns by index in the header.
 */
export interface ColumnOutput<Result> {
  appendNumbers(column: number, values: Float64Array, count: number): void;
  appendTexts(column: number, texts: readonly (string | null)[], stream: TextStream): void;
  /** A number column turned into text: its numbers go; its texts are appended after. */
  dropNumbers(column: number): void;
  /** A number column turned into text: the texts kept aside become its values. */
  promoteShadow(column: number): void;
  /** Forgets everything written: the table is read again from its first byte. */
  reset(): void;
  finish(rowCount: number, columns: readonly HeaderColumn[]): Result;
}

/** Columns in memory, for a table parsed from a buffer (parseCsv). */
export class MemoryColumns implements ColumnOutput<TabularData> {
  private numbers: (Float64Array | null)[] = [];
  private counts: number[] = [];
  private texts: ((string | null)[] | null)[] = [];
  private shadows: ((string | null)[] | null)[] = [];

  /** `expectedRows`: how many rows to make room for at first (more grow the columns). */
  constructor(private readonly expectedRows = 0) {}

  appendNumbers(column: number, values: Float64Array, count: number): void {
    const used = this.counts[column] ?? 0;
    let target = this.numbers[column];
    if (!target || target.length < used + count) {
      const grown = new Float64Array(Math.max(this.expectedRows, 2 * used, used + count));
      if (target) grown.set(target.subarray(0, used));
      target = this.numbers[column] = grown;
    }
    target.set(count === values.length ? values : values.subarray(0, count), used);
    this.counts[column] = used + count;
  }

  appendTexts(column: number, texts: readonly (string | null)[], stream: TextStream): void {
    const lists = stream === 'values' ? this.texts : this.shadows;
    const list = (lists[column] ??= []);
    for (let i = 0; i < texts.length; i++) list.push(texts[i]);
  }

  dropNumbers(column: number): void {
    this.numbers[column] = null;
    this.counts[column] = 0;
  }

  promoteShadow(column: number): void {
    this.dropNumbers(column);
    this.texts[column] = this.shadows[column] ?? [];
    this.shadows[column] = null;
  }

  reset(): void {
    this.numbers = [];
    this.counts = [];
    this.texts = [];
    this.shadows = [];
  }

  finish(rowCount: number, columns: readonly HeaderColumn[]): TabularData {
    return {
      rowCount,
      columns: columns.map(({ name, type }, index): Column => {
        if (type === 'string') return { name, type, values: this.texts[index] ?? [] };
        const values = this.numbers[index] ?? new Float64Array(0);
        // A view when little is wasted, else a copy that frees the rest.
        const exact =
          values.length - rowCount <= values.length / 8
            ? values.subarray(0, rowCount)
            : values.slice(0, rowCount);
        return { name, type, values: exact };
      }),
    };
  }
}

/** The encoding assembled by SpooledColumns: a file, its size and its SHA-256. */
export interface EncodedFile {
  file: string;
  sizeBytes: number;
  /** SHA-256 (hex) of the file's bytes, as checksumOf gives for the same encoding in memory. */
  checksum: string;
}

/** One column's files: its numbers (f64, little-endian), its texts and shadow texts as JSON. */
interface ColumnFiles {
  numbers: SpoolFile | null;
  texts: SpoolFile | null;
  shadow: SpoolFile | null;
}

/** An append-only file; for texts, the JSON array elements written so far (no brackets). */
class SpoolFile {
  private readonly fd: number;
  bytes = 0;
  elements = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'wx+');
  }

  write(content: Uint8Array | string): void {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let done = 0; done < bytes.length;) {
      done += writeSync(this.fd, bytes, done, bytes.length - done);
    }
    this.bytes += bytes.length;
  }

  /** Appends cells as elements of a JSON array, exactly as JSON.stringify writes them. */
  writeTexts(texts: readonly (string | null)[]): void {
    if (texts.length === 0) return;
    const json = JSON.stringify(texts);
    this.write(this.elements === 0 ? json.slice(1, -1) : `,${json.slice(1, -1)}`);
    this.elements += texts.length;
  }

  /** Copies the file's bytes to `out`, hashed on the way, with `scratch` as the buffer. */
  copyTo(out: HashedWriter, scratch: Buffer): void {
    for (let done = 0; done < this.bytes;) {
      const count = readSync(
        this.fd,
        scratch,
        0,
        Math.min(scratch.length, this.bytes - done),
        done,
      );
      if (count === 0) throw new Error(`${this.file} ends before its ${this.bytes} bytes`);
      out.write(scratch.subarray(0, count));
      done += count;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  remove(): void {
    this.close();
    rmSync(this.file, { force: true });
  }
}

/** A file written once from start to end, its SHA-256 computed as the bytes go out. */
class HashedWriter {
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'wx');
  }

  write(bytes: Uint8Array): void {
    this.hash.update(bytes);
    for (let done = 0; done < bytes.length;) {
      done += writeSync(this.fd, bytes, done, bytes.length - done);
    }
    this.bytes += bytes.length;
  }

  close(): string {
    closeSync(this.fd);
    return this.hash.digest('hex');
  }
}

/** Bytes copied at a time when the column files are assembled. */
const COPY_BYTES = 4 << 20;

/**
 * Columns written to files in `directory` as they are read (one per column, and one for the texts
 * of a number column kept aside), then assembled in column order behind the header into the MDTB
 * encoding, byte for byte what encodeTabularData gives for the same table, its SHA-256 computed as
 * it is written. Memory: nothing beyond the batch being written, and a 4 MiB copy buffer at the end.
 * The caller removes `directory` whatever happens.
 */
export class SpooledColumns implements ColumnOutput<EncodedFile> {
  private columns: ColumnFiles[] = [];

  constructor(private readonly directory: string) {}

  appendNumbers(column: number, values: Float64Array, count: number): void {
    const files = this.filesOf(column);
    files.numbers ??= this.open(column, 'f64');
    files.numbers.write(encodedNumberBytes(values, count));
  }

  appendTexts(column: number, texts: readonly (string | null)[], stream: TextStream): void {
    const files = this.filesOf(column);
    const file = (files[stream === 'values' ? 'texts' : 'shadow'] ??= this.open(column, stream));
    file.writeTexts(texts);
  }

  dropNumbers(column: number): void {
    const files = this.filesOf(column);
    files.numbers?.remove();
    files.numbers = null;
  }

  promoteShadow(column: number): void {
    this.dropNumbers(column);
    const files = this.filesOf(column);
    files.texts?.remove();
    files.texts = files.shadow;
    files.shadow = null;
  }

  reset(): void {
    this.removeAll();
  }

  finish(rowCount: number, columns: readonly HeaderColumn[]): EncodedFile {
    const file = path.join(this.directory, 'encoded.mdtb');
    const out = new HashedWriter(file);
    try {
      out.write(encodeTabularPrefix(rowCount, columns));
      const scratch = Buffer.allocUnsafe(COPY_BYTES);
      columns.forEach(({ type }, index) => {
        const files = this.filesOf(index);
        if (type === 'number') {
          files.numbers?.copyTo(out, scratch);
          return;
        }
        const texts = files.texts;
        const jsonBytes = (texts?.bytes ?? 0) + 2;
        const start = Buffer.alloc(5);
        start.writeUInt32LE(jsonBytes, 0);
        start[4] = 0x5b; // [
        out.write(start);
        texts?.copyTo(out, scratch);
        const end = Buffer.alloc(stringBlockBytes(jsonBytes) - 4 - jsonBytes + 1);
        end[0] = 0x5d; // ]
        out.write(end);
      });
    } catch (error) {
      out.close();
      throw error;
    } finally {
      this.removeAll();
    }
    return { file, sizeBytes: out.bytes, checksum: out.close() };
  }

  private filesOf(column: number): ColumnFiles {
    return (this.columns[column] ??= { numbers: null, texts: null, shadow: null });
  }

  private open(column: number, kind: string): SpoolFile {
    return new SpoolFile(path.join(this.directory, `column-${column}.${kind}`));
  }

  private removeAll(): void {
    for (const files of this.columns) {
      if (!files) continue;
      files.numbers?.remove();
      files.texts?.remove();
      files.shadow?.remove();
    }
    this.columns = [];
  }
}
