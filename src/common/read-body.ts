import type { Readable } from 'node:stream';

/**
 * The whole of a body stream, refusing it with `tooLarge()` as soon as it passes `limitBytes`
 * (the rest is left for the caller to drain).
 */
export function readBody(
  payload: Readable,
  limitBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        payload.off('data', onData);
        return reject(tooLarge());
      }
      chunks.push(chunk);
    };
    payload.on('data', onData);
    payload.once('end', () => resolve(Buffer.concat(chunks, received)));
    payload.once('error', reject);
  });
}
