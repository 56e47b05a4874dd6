/**
 * A version's reference samples (ReferenceSamples: column → sorted Float64Array) as one object in
 * object storage, under `references/<version id>`. Binary, because JSON would spell each of up to
 * 10,000 doubles per column in ~20 characters and parse them back slower than a copy:
 *
 *   "MDRS" | u32 format (1) | u32 header bytes | header JSON | zero padding to 8 | float64 LE values
 *
 * The header is `{ "columns": [{ "name", "length" }] }`; the values follow column after column in
 * that order.
 */
import { endianness } from 'node:os';
import type { ReferenceSamples } from '../ml/reference-profile';

const MAGIC = 'MDRS';
const FORMAT = 1;
const PREAMBLE_BYTES = 12;

interface Header {
  columns: { name: string; length: number }[];
}

if (endianness() !== 'LE') {
  // Float64Array views use the platform's byte order; the stored bytes are little-endian.
  throw new Error('reference samples are stored little-endian; this platform is big-endian');
}

export const REFERENCE_SAMPLES_PREFIX = 'references';

export function referenceSamplesKey(versionId: string): string {
  return `${REFERENCE_SAMPLES_PREFIX}/${versionId}`;
}

export function encodeReferenceSamples(samples: ReferenceSamples): Buffer {
  const names = Object.keys(samples);
  const header: Header = {
    columns: names.map((name) => ({ name, length: samples[name].length })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const valuesStart = align8(PREAMBLE_BYTES + headerBytes.length);
  const total = valuesStart + names.reduce((sum, name) => sum + samples[name].byteLength, 0);
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(FORMAT, 4);
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, PREAMBLE_BYTES);
  let offset = valuesStart;
  for (const name of names) {
    const values = samples[name];
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  return out;
}

/** Throws on bytes that are not this format: a stored object is ours, so that is a bug. */
export function decodeReferenceSamples(content: Buffer): ReferenceSamples {
  if (content.length < PREAMBLE_BYTES || content.toString('latin1', 0, 4) !== MAGIC) {
    throw new Error('not a reference samples object (bad magic)');
  }
  const format = content.readUInt32LE(4);
  if (format !== FORMAT) throw new Error(`reference samples format ${format} is not supported`);
  const headerLength = content.readUInt32LE(8);
  const header = JSON.parse(
    content.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength),
  ) as Header;
  let offset = align8(PREAMBLE_BYTES + headerLength);
  const samples: ReferenceSamples = {};
  for (const { name, length } of header.columns) {
    const byteLength = length * Float64Array.BYTES_PER_ELEMENT;
    if (offset + byteLength > content.length) {
      throw new Error(`reference samples are truncated in column ${JSON.stringify(name)}`);
    }
    // Copied into an array of its own: the Buffer's memory need not be 8-byte aligned.
    const values = new Float64Array(length);
    new Uint8Array(values.buffer).set(content.subarray(offset, offset + byteLength));
    samples[name] = values;
    offset += byteLength;
  }
  return samples;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
