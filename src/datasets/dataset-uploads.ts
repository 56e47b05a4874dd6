import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, InvalidInputError, PayloadTooLargeError } from '../common/errors';
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

/**
 * The dataset route's body parsers: CSV (and text/plain, read as CSV) as raw bytes within the
 * route's body limit, and multipart forms, streamed by @fastify/multipart and read by
 * `readMultipartUpload`. Other routes answer these media types with a 415 that says what to send.
 */
export async function installDatasetBodyParsers(fastify: FastifyInstance): Promise<void> {
  await fastify.register(multipart);
  fastify.addHook('onRoute', (route) => {
    const routeClass = route.config?.routeClass;
    if (routeClass === 'dataset-upload') {
      route.config = { ...route.config, mediaTypeAdvice: datasetUploadAdvice };
    } else if (routeClass === 'management' && BODY_METHODS.has(String(route.method))) {
      // @fastify/multipart's parser takes a form on any route and leaves the body empty, which a
      // route's validation would report as missing fields. Management routes refuse forms here;
      // the prediction routes' schemas already say the body must be a JSON object, and they
      // carry no extra hook.
      route.preValidation = [...hooksOf(route.preValidation), refuseForms];
    }
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

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function refuseForms(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  done(request.isMultipart() ? unsupportedMediaType(request) : undefined);
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * The dataset in a multipart form's `file` part: CSV, or JSON when the part says so (its type
 * or a .json file name). The name is `?name=`, else the form's `name` field, else the JSON's
 * own, else the file's name.
 */
export async function readMultipartUpload(
  request: FastifyRequest,
  queryName: string | undefined,
  limitBytes: number,
): Promise<DatasetUpload> {
  const otherParts: string[] = [];
  let file: { content: Buffer; filename: string; mimetype: string } | undefined;
  let formName: string | undefined;
  try {
    const parts = request.parts({ limits: { fileSize: limitBytes, files: 8, parts: 32 } });
    for await (const part of parts) {
      if (part.type === 'file' && part.fieldname === 'file' && !file) {
        const { filename, mimetype } = part;
        file = { content: await part.toBuffer(), filename, mimetype };
      } else if (part.type === 'field' && part.fieldname === 'name') {
        formName = String(part.value);
      } else {
        otherParts.push(part.fieldname);
        // An unread file stream would stall the form: drain it.
        if (part.type === 'file') part.file.resume();
      }
    }
  } catch (error) {
    throw multipartProblem(error, limitBytes);
  }
  if (!file) {
    const received = otherParts.length ? ` (it has ${otherParts.join(', ')})` : '';
    throw new InvalidInputError(
      `The form has no file part named "file"${received}: curl -F file=@data.csv '${request.protocol}://${request.host}/v1/datasets'.`,
      [{ field: 'file', message: 'is required: a form part holding the CSV or JSON file' }],
    );
  }
  if (formName !== undefined && !NAME_PATTERN.test(formName)) {
    throw new InvalidInputError(`The form's name field ${NAME_RULE}.`, [
      { field: 'name', message: NAME_RULE },
    ]);
  }
  return toUpload(file.content, file.filename, file.mimetype, queryName ?? formName);
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

/** @fastify/multipart's errors as problems a client can act on. */
function multipartProblem(error: unknown, limitBytes: number): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new PayloadTooLargeError(
        `The file is larger than the dataset limit of ${limitBytes} bytes; send a smaller file or raise ${BODY_LIMIT_SETTINGS.dataset}.`,
      );
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new PayloadTooLargeError(
        'The form has too many parts; send one part named "file" holding the dataset.',
      );
  }
  if (error instanceof Error) {
    // busboy's complaints about the form itself (bad boundary, truncated part).
    return new InvalidInputError(`The multipart form could not be read: ${error.message}.`);
  }
  return error;
}
