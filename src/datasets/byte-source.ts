import { readSync } from 'node:fs';

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/** Bytes a reader fetches at a time when it scans a source (line counts, blank-line skips). */
const SCAN_BYTES = 1 << 20;

/**
 * The bytes of an upload received so far, read back by position: a buffer in memory, or the
 * file an upload is spooled to while it arrives (read by the ingest thread as it grows). Readers
 * go forward a window at a time; a look back (a column's earlier cells, a line number) reads
 * again from the start with a reader of its own.
 */
export interface ByteSource {
  /** A new reader: each keeps its own buffer, so two readers never overwrite each other's bytes. */
  reader(): ByteReader;
}

export interface ByteReader {
  /**
   * Bytes [start, end), which the source must hold. A file reader reuses its buffer: the bytes
   * are valid until this reader's next read.
   */
  read(start: number, end: number): Buffer;
}

export class BufferSource implements ByteSource {
  constructor(readonly bytes: Buffer) {}

  reader(): ByteReader {
    return { read: (start, end) => this.bytes.subarray(start, end) };
  }
}

/** A file being written by another thread; only bytes already written may be read. */
export class FileSource implements ByteSource {
  constructor(private readonly fd: number) {}

  reader(): ByteReader {
    let buffer = Buffer.allocUnsafe(0);
    return {
      read: (start, end) => {
        const length = end - start;
        if (buffer.length < length) buffer = Buffer.allocUnsafe(Math.max(length, SCAN_BYTES));
        for (let done = 0; done < length;) {
          const count = readSync(this.fd, buffer, done, length - done, start + done);
          if (count === 0) throw new Error(`the spooled upload ends before byte ${end}`);
          done += count;
        }
        return buffer.subarray(0, length);
      },
    };
  }
}

/** Skips the blank lines and indentation that csv-parse skips before a record or field. */
export function firstContentByte(source: ByteSource, offset: number, size: number): number {
  const reader = source.reader();
  for (let start = offset; start < size; start += SCAN_BYTES) {
    const bytes = reader.read(start, Math.min(size, start + SCAN_BYTES));
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte !== SPACE && byte !== TAB && byte !== CR && byte !== LF) return start + i;
    }
  }
  return size;
}

/**
 * 1-based line numbers of ascending byte offsets, counting CRLF, LF and lone CR as one break.
 * Counted here because csv-parse counts a CRLF inside a quoted field as two lines.
 */
export function lineNumbers(
  source: ByteSource,
  offsets: readonly number[],
  size: number,
): number[] {
  const reader = source.reader();
  const lines: number[] = [];
  let line = 1;
  let position = 0;
  for (const offset of offsets) {
    while (position < offset) {
      // One byte past the window, to see whether a CR at its end is followed by LF.
      const end = Math.min(offset, position + SCAN_BYTES);
      const bytes = reader.read(position, Math.min(size, end + 1));
      const count = end - position;
      for (let i = 0; i < count; i++) {
        const byte = bytes[i];
        if (byte === LF || (byte === CR && bytes[i + 1] !== LF)) line++;
      }
      position = end;
    }
    lines.push(line);
  }
  return lines;
}
