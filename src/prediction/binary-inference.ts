import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { declareBodyReaders } from '../common/body-readers';
import { InvalidInputError, PayloadTooLargeError } from '../common/errors';
import { readBody } from '../common/read-body';
import { BODY_LIMIT_SETTINGS } from '../common/route-policy';
import { checkJsonText, unsupportedMediaType } from '../common/strict-json';
import { INFERENCE_HEADER_CONTENT_LENGTH, splitBinaryBody } from '../tensors/binary-tensors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the binary tensor data extension's reader: the bytes after the JSON header. */
    binaryTensors: Buffer | null;
  }
}

/**
 * The binary tensor data extension on the V2 infer routes, as Triton implements it: a body whose
 * first `Inference-Header-Content-Length` bytes are the JSON request and the rest the inputs'
 * binary data. Read with `Content-Type: application/octet-stream` or with none (Triton's clients
 * send none); the JSON part is then checked by the route's schema like any JSON body.
 */
export function installBinaryInference(fastify: FastifyInstance): void {
  fastify.decorateRequest('binaryTensors', null);
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const read = async (request: FastifyRequest, payload: IncomingMessage): Promise<unknown> => {
    const declared = request.headers[INFERENCE_HEADER_CONTENT_LENGTH];
    if (declared === undefined) {
      throw new InvalidInputError(
        `A binary inference request needs the ${INFERENCE_HEADER_CONTENT_LENGTH} header: the length of the JSON request at the start of the body (the binary tensor data extension). Send JSON alone with Content-Type: application/json.`,
      );
    }
    const limit = request.routeOptions.bodyLimit;
    const body = await readBody(
      payload,
      limit,
      () =>
        new PayloadTooLargeError(
          `The body is larger than this route's limit of ${limit} bytes; split the batch, or raise ${BODY_LIMIT_SETTINGS.predict}.`,
        ),
    );
    const { header, binary } = splitBinaryBody(body, Number(declared));
    const text = header.toString('utf8');
    const json = await new Promise<unknown>((resolve, reject) =>
      parseJson(request, text, (error, value) => (error ? reject(error) : resolve(value))),
    );
    const problem = checkJsonText(text);
    if (problem) {
      throw new InvalidInputError(
        'duplicateKey' in problem
          ? `The JSON inference header has the key "${problem.duplicateKey}" twice in one object; send each key once.`
          : 'The JSON inference header is nested too deeply; flatten it.',
      );
    }
    request.binaryTensors = binary;
    return json;
  };
  declareBodyReaders('infer', {
    bytes: read,
    other: (request, payload) =>
      request.headers[INFERENCE_HEADER_CONTENT_LENGTH] === undefined
        ? Promise.reject(unsupportedMediaType(request))
        : read(request, payload),
  });
}
