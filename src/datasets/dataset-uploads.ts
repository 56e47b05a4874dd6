import { Busboy, BusboyHeaders, BusboyInstance } from '@fastify/busboy';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { InvalidInputError, PayloadTooLargeError } from '../common/errors';
import { declareBodyReaders } from '../common/body-readers';
import { BODY_LIMIT_SETTINGS } from '../common/route-policy';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { jsonProblemMessage, streamJsonBodies, unsupportedMediaType } from '../common/strict-json';
import type { DatasetUpload } from './datasets.service';
import type { JsonMalformation } from './json-table-reader';

/** Bodies read as CSV on the dataset route. `text/plain` is what many curl lines send for a file. */
const CSV_MEDIA_TYPES = ['text/csv', 'application/csv', 'text/plain'];

/** The three ways to upload a dataset, as curl lines against the URL the client used. */
export function datasetUploadAdvice(request: FastifyRequest): string {
  const url = `${request.protocol}://${request.host}/v1/datasets`;
  return (
    'Send a dataset as CSV with a header row: ' +
    `curl -H 'Content-Type: text/csv' --data-binary @data.csv '${url}?name=my-data'; ` +
    'or as JSON { name, columns, rows } or { name, records }: ' +
    `curl -H 'Content-Type: application/json' -d '{"name":"my-data","records":[{"x":1,"y":2}]}' '${url}'; ` +
    `or as a multipart form with a file part: curl -F file=@data.csv '${url}'.`
  );
}

/**
 * A CSV body as it arrives, handed to the route before it is read: its bytes are read once, by the
 * upload (dataset-ingest.ts), and counted against the route's body limit on the way.
 */
export class CsvBody {
  constructor(
    private readonly request: FastifyRequest,
    private readonly payload: Readable,
  ) {}

  /** The upload, named by `?name=` (a CSV upload without one is refused once it is read). */
  upload(name: string | undefined): DatasetUpload {
    const request = this.request;
    return {
      kind: 'csv',
      bytes: readLimited(
        this.payload,
        request.routeOptions.bodyLimit,
        () => tooLarge(),
        (first) => {
          // JSON labelled text/plain (a common curl slip) would parse as a one-column CSV: say so.
          if (first === 0x7b || first === 0x5b) {
            throw new InvalidInputError(
              `The body looks like JSON but its Content-Type is ${request.headers['content-type']}, which is read as CSV. ${datasetUploadAdvice(request)}`,
            );
          }
        },
      ),
      name: () => Promise.resolve(name),
    };
  }
}

/**
 * A JSON body as it arrives, handed to the route before it is read: streamed into the ingest
 * thread (json-table-reader.ts), counted against the route's body limit on the way.
 */
export class JsonBody {
  constructor(
    private readonly request: FastifyRequest,
    private readonly payload: Readable,
  ) {}

  /**
   * The upload; `?name=` names it when the body has no name of its own (as `{ name, ...body }`
   * did for a body parsed whole).
   */
  upload(queryName: string | undefined): DatasetUpload {
    return {
      kind: 'json-stream',
      bytes: readLimited(this.payload, this.request.routeOptions.bodyLimit, tooLarge, () => {}),
      options: { bareArrayIsRecords: false, refusePrototypeKeys: true },
      name: () =>
        Promise.resolve((own: { value: unknown } | undefined) =>
          own ? own.value : queryName || undefined,
        ),
      malformed: bodyMalformation,
    };
  }
}

/** What the app's JSON body parser and strict-json.ts answer for the same text. */
function bodyMalformation(problem: JsonMalformation): Error {
  if ('empty' in problem) return new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
  if ('syntax' in problem) return new SyntaxError(problem.syntax);
  if ('prototypeKey' in problem)
    return new SyntaxError('Object contains forbidden prototype property');
  return new InvalidInputError(jsonProblemMessage(problem));
}

/** What reading a JSON file part whole answered (JSON.parse, then strict-json.ts's checks). */
function fileMalformation(filename: string, problem: JsonMalformation): Error {
  if ('empty' in problem || 'syntax' in problem) {
    const reason = 'empty' in problem ? 'Unexpected end of JSON input' : problem.syntax;
    return new InvalidInputError(`The file ${filename} is not valid JSON: SyntaxError: ${reason}`);
  }
  if ('duplicateKey' in problem) {
    return new InvalidInputError(
      `The file ${filename} has the key "${problem.duplicateKey}" twice in one object; keep one.`,
    );
  }
  return new InvalidInputError(`The file ${filename} is nested too deeply; flatten it.`);
}

/** Fastify's own "body too large", which the problem filter words with the route's limit. */
function tooLarge(): Error {
  return new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
}

/**
 * The bytes of `stream` as they come, failing with `tooLarge()` past `limitBytes`; `checkStart`
 * sees the first byte that is not white space once every byte was read (within the limit).
 * Whenever the reading stops (done, refused, or abandoned by the consumer), the rest of the stream
 * is read and dropped, so that the reply can go out.
 */
async function* readLimited(
  stream: Readable,
  limitBytes: number,
  tooLargeError: () => Error,
  checkStart: (firstByte: number) => void,
): AsyncGenerator<Buffer> {
  let size = 0;
  let first = -1;
  try {
    // Not destroyed when the loop ends early: a request's stream is its connection.
    for await (const chunk of stream.iterator({
      destroyOnReturn: false,
    }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw tooLargeError();
      if (first === -1) first = chunk.find((byte) => byte > 32) ?? -1;
      yield chunk;
    }
  } finally {
    stream.resume();
  }
  checkStart(first);
}

/** A multipart form as read from the dataset route: the `file` part, the `name` field, the rest. */
export class DatasetForm {
  /** The first part named `file`, to be read as it arrives. */
  file: { bytes: AsyncIterable<Buffer>; filename: string; mimetype: string } | undefined;
  name: string | undefined;
  readonly otherParts: string[] = [];
  /** Settles once the whole form is read: rejects with what went wrong with it. */
  finished: Promise<void> = Promise.resolve();
}

/** At most this many parts in a dataset form: a file, a name, and room for a client's extras. */
const FORM_LIMITS = { files: 8, fields: 16, parts: 32 };

/**
 * The dataset route's body parsers: CSV (and text/plain, read as CSV) handed on unread as a
 * CsvBody, and multipart forms read by busboy into a DatasetForm as far as their `file` part,
 * which is handed on unread too, capped at the same limit. Other routes answer these media types
 * with a 415 that says what to send. No hook is added: the prediction routes pay nothing for
 * forms they never take.
 */
export function installDatasetBodyParsers(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (route.config?.routeClass === 'dataset-upload') {
      route.config = { ...route.config, mediaTypeAdvice: datasetUploadAdvice };
    }
  });
  streamJsonBodies('dataset-upload', (request, payload) => {
    // As Fastify's own body reader does: a declared length over the limit is refused unread.
    if (Number(request.headers['content-length']) > request.routeOptions.bodyLimit) {
      throw tooLarge();
    }
    return new JsonBody(request, payload);
  });
  declareBodyReaders('dataset-upload', {
    form: (request, payload) => readDatasetForm(request, payload, request.routeOptions.bodyLimit),
  });
  fastify.addContentTypeParser(CSV_MEDIA_TYPES, (request, payload, done) => {
    if (request.routeOptions.config.routeClass !== 'dataset-upload') {
      return done(unsupportedMediaType(request), undefined);
    }
    // As Fastify's own body reader does: a declared length over the limit is refused unread.
    if (Number(request.headers['content-length']) > request.routeOptions.bodyLimit) {
      payload.resume();
      return done(tooLarge(), undefined);
    }
    done(null, new CsvBody(request, payload));
  });
}

/**
 * Streams a form through busboy as far as its first `file` part (at most limitBytes), resolving
 * then with that part unread, or at the end of a form without one; the `name` field and the rest
 * are read as the file part is.
 */
function readDatasetForm(
  request: FastifyRequest,
  payload: IncomingMessage,
  limitBytes: number,
): Promise<DatasetForm> {
  return new Promise((resolve, reject) => {
    const form = new DatasetForm();
    let handedOn = false;
    let formFailed: (error: Error) => void = reject;
    let formFinished: () => void = () => undefined;
    let failure: Error | null = null;
    let fileStream: Readable | null = null;
    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      payload.unpipe(busboy);
      payload.resume();
      // A reader of the file part stops with the error rather than wait for the rest.
      fileStream?.destroy(error);
      formFailed(error);
    };
    let busboy: BusboyInstance;
    try {
      busboy = Busboy({
        headers: request.headers as BusboyHeaders,
        limits: { ...FORM_LIMITS, fileSize: limitBytes },
      });
    } catch (error) {
      // No boundary in the Content-Type, and the like.
      return reject(formUnreadable(error));
    }
    const handOn = () => {
      handedOn = true;
      form.finished = new Promise<void>((resolveForm, rejectForm) => {
        formFinished = resolveForm;
        formFailed = rejectForm;
      });
      // Seen by whoever reads the form on; not an unhandled rejection meanwhile.
      form.finished.catch(() => undefined);
      resolve(form);
    };
    busboy.on('file', (fieldname, stream, filename, _encoding, mimetype) => {
      if (fieldname !== 'file' || form.file || failure) {
        form.otherParts.push(fieldname);
        stream.resume(); // an unread part would stall the form
        return;
      }
      fileStream = stream;
      // Its reader sees a failure when it reads; before then, it is not an unhandled error.
      stream.on('error', () => undefined);
      stream.on('limit', () =>
        fail(
          new PayloadTooLargeError(
            `The file is larger than the dataset limit of ${limitBytes} bytes; send a smaller file or raise ${BODY_LIMIT_SETTINGS.dataset}.`,
          ),
        ),
      );
      form.file = {
        bytes: readLimited(
          stream,
          limitBytes,
          () => failure ?? new Error('form failed'),
          () => {
            if (failure) throw failure;
          },
        ),
        filename,
        mimetype,
      };
      handOn();
    });
    busboy.on('field', (fieldname, value) => {
      if (fieldname === 'name') form.name = value;
      else form.otherParts.push(fieldname);
    });
    const tooManyParts = () =>
      fail(
        new PayloadTooLargeError(
          'The form has too many parts; send one part named "file" holding the dataset.',
        ),
      );
    busboy.on('partsLimit', tooManyParts);
    busboy.on('filesLimit', tooManyParts);
    busboy.on('fieldsLimit', tooManyParts);
    busboy.on('error', (error) => fail(formUnreadable(error)));
    busboy.on('finish', () => {
      if (failure) return;
      if (handedOn) formFinished();
      else resolve(form);
    });
    payload.on('error', (error) => fail(error));
    payload.pipe(busboy);
  });
}

/** busboy's complaints about the form itself (no boundary, a truncated part). */
function formUnreadable(error: unknown): InvalidInputError {
  const reason = error instanceof Error ? error.message : String(error);
  return new InvalidInputError(`The multipart form could not be read: ${reason}.`);
}

/**
 * The upload a form carries; the name is `?name=`, else the form's `name` field, else the file's.
 * The file part is handed on unread, CSV or JSON (its name is settled once it is read: the name
 * field may follow it).
 */
export async function formUpload(
  form: DatasetForm,
  queryName: string | undefined,
  request: FastifyRequest,
): Promise<DatasetUpload> {
  const { file } = form;
  if (!file) {
    const received = form.otherParts.length ? ` (it has ${form.otherParts.join(', ')})` : '';
    throw new InvalidInputError(
      `The form has no file part named "file"${received}: curl -F file=@data.csv '${request.protocol}://${request.host}/v1/datasets'.`,
      [{ field: 'file', message: 'is required: a form part holding the CSV or JSON file' }],
    );
  }
  const givenName = async () => {
    await form.finished;
    if (form.name !== undefined && !NAME_PATTERN.test(form.name)) {
      throw new InvalidInputError(`The form's name field ${NAME_RULE}.`, [
        { field: 'name', message: NAME_RULE },
      ]);
    }
    return queryName ?? form.name;
  };
  const isJson = file.mimetype === 'application/json' || /\.json$/i.test(file.filename);
  if (!isJson) {
    return {
      kind: 'csv',
      bytes: file.bytes,
      name: async () => (await givenName()) ?? nameFromFile(file.filename),
    };
  }
  const filename = file.filename;
  return {
    kind: 'json-stream',
    bytes: file.bytes,
    // A bare array is the records (what pandas' to_json(orient="records") writes).
    options: { bareArrayIsRecords: true, refusePrototypeKeys: false },
    name: async () => {
      const given = await givenName();
      return (own) => given ?? (own === undefined ? nameFromFile(filename) : own.value);
    },
    malformed: (problem) => fileMalformation(filename, problem),
  };
}

/** `my data (2).csv` → `my-data-2`: the file name without its extension, made a valid name. */
export function nameFromFile(filename: string): string {
  const stem = filename.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const name = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, 128);
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidInputError(
      `No dataset name can be made from the file name "${filename}": pass one as ?name=my-data.`,
      [{ field: 'name', message: 'is required as a query parameter' }],
    );
  }
  return name;
}
