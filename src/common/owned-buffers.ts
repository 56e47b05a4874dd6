/**
 * The buffers of arrays that are the whole of their buffer, once each: they can move to a thread
 * (postMessage's transfer list) instead of being copied. A view into a larger buffer (a pooled
 * Buffer's slab) is left out, to be copied.
 */
export function ownedBuffers(arrays: ArrayBufferView[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) {
    const { buffer } = array;
    if (
      buffer instanceof ArrayBuffer &&
      array.byteOffset === 0 &&
      array.byteLength === buffer.byteLength
    ) {
      buffers.add(buffer);
    }
  }
  return [...buffers];
}
