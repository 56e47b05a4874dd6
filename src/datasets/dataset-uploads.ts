import { Busboy, BusboyHeaders, BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { InvalidInputError, PayloadTooLargeError } from '../common/errors';
import { declareBodyReaders } from '../common/body-readers';
import { BODY_LIMIT_SETTINGS } from '../common/route-policy';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { checkJsonText, unsupportedMediaType } from '../common/strict-json';
import type { DatasetUpload } from './datasets.service';

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

/** A multipart form as read from the dataset route: the `file` part, the `name` field, the rest. */
export class DatasetForm {
  file: { content: Buffer; filename: string; mimetype: string } | undefined;
  name: string | undefined;
  readonly otherParts: string[] = [];
}

/** At most this many parts in a dataset form: a file, a name, and room for a client's extras. */
const FORM_LIMITS = { files: 8, fields: 16, parts: 32 };

/**
 * The dataset route's body parsers: CSV (and text/plain, read as CSV) as raw bytes within the
 * route's body limit, and multipart forms read by busboy into a DatasetForm, the file part capped
 * at the same limit. Other routes answer these media types with a 415 that says what to send.
 * No hook is added: the prediction routes pay nothing for forms they never take.
 */
export function installDatasetBodyParsers(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (route.config?.routeClass === 'dataset-upload') {
      route.config = { ...route.config, mediaTypeAdvice: datasetUploadAdvice };
    }
  });
  declareBodyReaders('dataset-upload', {
    form: (request, payload) => readDatasetForm(request, payload, request.routeOptions.bodyLimit),
  });
  fastify.addContentTypeParser(CSV_MEDIA_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    if (request.routeOptions.config.routeClass !== 'dataset-upload') {
      return done(unsupportedMediaType(request), undefined);
    }
    // JSON labelled text/plain (a common curl slip) would parse as a one-column CSV: say so.
    const first = (body as Buffer).find((byte) => byte > 32);
    if (first === 0x7b || first === 0x5b) {
      return done(
        new InvalidInputError(
          `The body looks like JSON but its Content-Type is ${request.headers['content-type']}, which is read as CSV. ${datasetUploadAdvice(request)}`,
        ),
        undefined,
      );
    }
    done(null, body);
  });
}

/** Streams a form through busboy, keeping the first `file` part (at most limitBytes) and `name`. */
function readDatasetForm(
  request: FastifyRequest,
  payload: IncomingMessage,
  limitBytes: number,
): Promise<DatasetForm> {
  return new Promise((resolve, reject) => {
    const form = new DatasetForm();
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      payload.unpipe(busboy);
      reject(error);
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
    busboy.on('file', (fieldname, stream, filename, _encoding, mimetype) => {
      if (fieldname !== 'file' || form.file) {
        form.otherParts.push(fieldname);
        stream.resume(); // an unread part would stall the form
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () =>
        fail(
          new PayloadTooLargeError(
            `The file is larger than the dataset limit of ${limitBytes} bytes; send a smaller file or raise ${BODY_LIMIT_SETTINGS.dataset}.`,
          ),
        ),
      );
      stream.on('end', () => {
        form.file = { content: Buffer.concat(chunks), filename, mimetype };
      });
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
      if (settled) return;
      settled = true;
      resolve(form);
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

/** The upload a form carries; the name is `?name=`, else the form's `name` field, else the file's. */
export function formUpload(
  form: DatasetForm,
  queryName: string | undefined,
  request: FastifyRequest,
): DatasetUpload {
  const { file } = form;
  if (!file) {
    const received = form.otherParts.length ? ` (it has ${form.otherParts.join(', ')})` : '';
    throw new InvalidInputError(
      `The form has no file part named "file"${received}: curl -F file=@data.csv '${request.protocol}://${request.host}/v1/datasets'.`,
      [{ field: 'file', message: 'is required: a form part holding the CSV or JSON file' }],
    );
  }
  if (form.name !== undefined && !NAME_PATTERN.test(form.name)) {
    throw new InvalidInputError(`The form's name field ${NAME_RULE}.`, [
      { field: 'name', message: NAME_RULE },
    ]);
  }
  return toUpload(file.content, file.filename, file.mimetype, queryName ?? form.name);
}

function toUpload(
  content: Buffer,
  filename: string,
  mimetype: string,
  givenName: string | undefined,
): DatasetUpload {
  const isJson = mimetype === 'application/json' || /\.json$/i.test(filename);
  if (!isJson) {
    return { kind: 'csv', name: givenName ?? nameFromFile(filename), content };
  }
  const text = content.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`The file ${filename} is not valid JSON: ${String(error)}`);
  }
  const problem = checkJsonText(text);
  if (problem) {
    throw new InvalidInputError(
      'duplicateKey' in problem
        ? `The file ${filename} has the key "${problem.duplicateKey}" twice in one object; keep one.`
        : `The file ${filename} is nested too deeply; flatten it.`,
    );
  }
  // A bare array is the records (what pandas' to_json(orient="records") writes).
  const table: unknown = Array.isArray(body) ? { records: body } : body;
  if (typeof table !== 'object' || table === null) return { kind: 'json', body: table };
  const ownName = (table as { name?: unknown }).name;
  const name = givenName ?? (ownName === undefined ? nameFromFile(filename) : ownName);
  return { kind: 'json', body: { ...table, name } };
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
