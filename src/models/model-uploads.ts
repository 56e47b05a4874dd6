import { Busboy, BusboyHeaders } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { declareBodyReaders } from '../common/body-readers';
import { InvalidInputError, PayloadTooLargeError } from '../common/errors';
import { BODY_LIMIT_SETTINGS } from '../common/route-policy';

/** A model file received on `POST …/versions`, on disk until the registry has stored it. */
export class UploadedModelFile {
  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    /** sha256 of the bytes, hex, computed as they arrived. */
    readonly sha256: string,
    readonly filename: string | null,
  ) {}

  discard(): Promise<void> {
    return rm(this.path, { force: true });
  }
}

/** Uploads left by a crash are removed at the next start once they are this old. */
const STALE_UPLOAD_MS = 60 * 60 * 1000;

/**
 * The model route's readers: `application/octet-stream` (the .onnx bytes) and a multipart form's
 * `file` part are streamed to a file under DATA_DIR/uploads, counted and hashed on the way, and
 * refused with a 413 past MODEL_BODY_LIMIT_BYTES. JSON artifacts take the JSON parser as before.
 */
export function installModelUploads(
  fastify: FastifyInstance,
  dataDir: string,
  limitBytes: number,
): void {
  const directory = path.join(dataDir, 'uploads');
  void removeStaleUploads(directory);
  // Whatever became of the request (registered, refused, its query invalid), the file goes.
  fastify.addHook('onRoute', (route) => {
    if (route.config?.routeClass !== 'model-upload') return;
    const discard = async (request: FastifyRequest) => {
      if (request.body instanceof UploadedModelFile) await request.body.discard();
    };
    route.onResponse = [...hookList(route.onResponse), discard];
  });
  const tooLarge = () =>
    new PayloadTooLargeError(
      `The model file is larger than the limit of ${limitBytes} bytes; raise ${BODY_LIMIT_SETTINGS.model} to register larger models.`,
    );
  const save = async (source: Readable, filename: string | null) => {
    await mkdir(directory, { recursive: true });
    const file = path.join(directory, `${randomUUID()}.upload`);
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > limitBytes) return callback(tooLarge());
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, count, createWriteStream(file));
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return new UploadedModelFile(file, size, hash.digest('hex'), filename);
  };
  declareBodyReaders('model-upload', {
    bytes: (_request, payload) => save(payload, null),
    form: (request, payload) => readModelForm(request, payload, save),
  });
}

/** The form's `file` part, saved; other parts are read and dropped. */
function readModelForm(
  request: FastifyRequest,
  payload: IncomingMessage,
  save: (source: Readable, filename: string | null) => Promise<UploadedModelFile>,
): Promise<UploadedModelFile> {
  return new Promise((resolve, reject) => {
    let saving: Promise<UploadedModelFile> | null = null;
    let busboy: ReturnType<typeof Busboy>;
    try {
      busboy = Busboy({
        headers: request.headers as BusboyHeaders,
        limits: { files: 4, fields: 16, parts: 32 },
      });
    } catch (error) {
      return reject(
        new InvalidInputError(`The multipart form could not be read: ${String(error)}.`),
      );
    }
    busboy.on('file', (fieldname, stream, filename) => {
      if (fieldname !== 'file' || saving) return stream.resume();
      saving = save(stream, filename || null);
      saving.catch(() => stream.resume());
    });
    busboy.on('error', (error) =>
      reject(new InvalidInputError(`The multipart form could not be read: ${String(error)}.`)),
    );
    busboy.on('finish', () => {
      if (!saving) {
        return reject(
          new InvalidInputError(
            `The form has no file part named "file": curl -F file=@model.onnx '${request.protocol}://${request.host}${request.url}'.`,
            [{ field: 'file', message: 'is required: a form part holding the .onnx file' }],
          ),
        );
      }
      saving.then(resolve, reject);
    });
    payload.on('error', reject);
    payload.pipe(busboy);
  });
}

function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

async function removeStaleUploads(directory: string): Promise<void> {
  try {
    for (const name of await readdir(directory)) {
      const file = path.join(directory, name);
      if (Date.now() - (await stat(file)).mtimeMs > STALE_UPLOAD_MS)
        await rm(file, { force: true });
    }
  } catch {
    // No uploads directory yet.
  }
}
