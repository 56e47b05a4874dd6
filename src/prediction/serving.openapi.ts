import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ParameterObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { accessDocumentation } from '../auth/access.decorator';
import {
  InferenceErrorBody,
  InferenceRequestBody,
  InferenceResponseBody,
} from './dto/inference.dto';
import { PredictRequest, PredictResponse } from './dto/predict.dto';

/** DTO classes the hot-path routes are documented with (pass as Swagger `extraModels`). */
export const SERVING_DOCUMENT_MODELS = [
  PredictRequest,
  PredictResponse,
  InferenceRequestBody,
  InferenceResponseBody,
  InferenceErrorBody,
];

const json = (model: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${model}` } },
});

const path = (name: string, description: string): ParameterObject => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});

const modelName = path('name', 'The registered model.');

/** What @Access('predict') documents on Nest routes. */
function predictAccess(errorContent?: ReturnType<typeof json>) {
  const docs = accessDocumentation('predict');
  return {
    security: docs.security,
    // An OpenAPI extension, as @ApiExtension writes it on Nest routes.
    extension: { 'x-required-roles': docs.roles } as object,
    responses: {
      '401': { description: docs.unauthorized, content: errorContent },
      '403': { description: docs.forbidden, content: errorContent },
      '429': { description: 'Rate limit reached; see Retry-After.', content: errorContent },
    },
  };
}

/**
 * The routes of `serving.routes.ts` are Fastify routes, invisible to Nest's Swagger scanner; this
 * documents them in the same document, from the same DTO classes.
 */
export function documentServingRoutes(document: OpenAPIObject): void {
  const v1Access = predictAccess();
  const predict: OperationObject = {
    security: v1Access.security,
    ...v1Access.extension,
    operationId: 'predict',
    tags: ['prediction'],
    summary: 'Predict with a model',
    description:
      'Serves alias `production` if set, else the latest ready version; `?version=N` or `?alias=A` picks another. ' +
      'The X-Model-Version header names the version that answered.',
    parameters: [
      modelName,
      { name: 'version', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } },
      { name: 'alias', in: 'query', required: false, schema: { type: 'string' } },
    ],
    requestBody: { required: true, content: json('PredictRequest') },
    responses: {
      '200': {
        description: 'Predictions, one per instance.',
        headers: {
          'X-Model-Version': {
            description: 'The version that answered.',
            schema: { type: 'integer' },
          },
        },
        content: json('PredictResponse'),
      },
      ...v1Access.responses,
    },
  };
  document.paths['/v1/models/{name}/predict'] = { post: predict };

  const v2Access = predictAccess(json('InferenceErrorBody'));
  const infer = (versioned: boolean): OperationObject => ({
    security: v2Access.security,
    ...v2Access.extension,
    operationId: versioned ? 'inferVersion' : 'infer',
    tags: ['open-inference'],
    summary: versioned
      ? 'Inference with one version (Open Inference Protocol)'
      : 'Inference with the version served by default (Open Inference Protocol)',
    description:
      'Inputs are one tensor per feature (shape [N] or [N, 1]), or a single tensor `input-0` of shape ' +
      '[N, features] in the order of the inputSchema; `data` is row-major, nested or flat. Outputs: ' +
      '`predict`, and `predict_proba` for classifiers. `id` and `parameters` are returned as given.',
    parameters: versioned
      ? [modelName, path('version', 'A version number (1, 2, 3…).')]
      : [modelName],
    requestBody: { required: true, content: json('InferenceRequestBody') },
    responses: {
      '200': { description: 'The output tensors.', content: json('InferenceResponseBody') },
      ...v2Access.responses,
      default: {
        description: 'An error, as the protocol has it.',
        content: json('InferenceErrorBody'),
      },
    },
  });
  document.paths['/v2/models/{name}/infer'] = { post: infer(false) };
  document.paths['/v2/models/{name}/versions/{version}/infer'] = { post: infer(true) };
}
