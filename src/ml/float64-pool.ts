const SLAB_BYTES = 64 * 1024;
/** Arrays up to this many elements (4 KiB) come from the slab; larger ones are allocated alone. */
const POOLED_MAX_LENGTH = 512;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/**
 * A zeroed Float64Array for per-request work. Small ones are views carved from a shared slab, as
 * Node's Buffer pool does for small Buffers: a typed array over V8's on-heap limit (64 bytes) is
 * allocated off-heap, which costs more than predicting one row, while a view is almost free. A
 * slab is never handed out twice, so arrays never alias; it is freed with its last view.
 */
export function allocFloat64(length: number): Float64Array {
  if (length > POOLED_MAX_LENGTH) return new Float64Array(length);
  const bytes = length * Float64Array.BYTES_PER_ELEMENT;
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const array = new Float64Array(slab, used, length);
  used += bytes;
  return array;
}

/** A plain array copy (for JSON): Array.from over a typed array goes through the iterator. */
export function toNumberArray(values: Float64Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}
