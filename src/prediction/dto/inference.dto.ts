import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FastifySchema } from 'fastify';
import type { ProblemDetails } from '../../common/problem-details';
import { DATATYPES } from '../../tensors/datatypes';

// The Open Inference Protocol (KServe V2) REST shapes, named as in its specification
// (../shared/specs/open_inference_rest.yaml), for Swagger; the routes check bodies with the schema below.

export class RequestInputTensor {
  @ApiProperty({ example: 'input-0' })
  name: string;

  /** The full batch shape, e.g. [rows, features] for the rows tensor or [rows] for a feature. */
  @ApiProperty({ type: [Number], example: [1, 2] })
  shape: number[];

  @ApiProperty({ enum: DATATYPES, example: 'FP64' })
  datatype: string;

  /** Row-major elements, nested or flat. */
  @ApiProperty({ type: 'array', items: {}, example: [[1.5, 2]] })
  data: unknown[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: {} })
  parameters?: Record<string, unknown>;
}

export class RequestOutputTensor {
  @ApiProperty({ example: 'predict' })
  name: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: {} })
  parameters?: Record<string, unknown>;
}

export class InferenceRequestBody {
  /** Returned as given in the response. */
  @ApiPropertyOptional({ example: '42' })
  id?: string;

  /** Returned as given in the response. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { trace: 'abc' } })
  parameters?: Record<string, unknown>;

  @ApiProperty({ type: [RequestInputTensor] })
  inputs: RequestInputTensor[];

  /** The outputs to return (default: all). */
  @ApiPropertyOptional({ type: [RequestOutputTensor] })
  outputs?: RequestOutputTensor[];
}

export class ResponseOutputTensor {
  @ApiProperty({ example: 'predict' })
  name: string;

  @ApiProperty({ type: [Number], example: [1] })
  shape: number[];

  @ApiProperty({ example: 'FP64' })
  datatype: string;

  @ApiProperty({ type: 'array', items: {}, example: [262022.43] })
  data: unknown[];
}

export class InferenceResponseBody {
  @ApiProperty({ example: 'house-prices' })
  model_name: string;

  @ApiProperty({ example: '3' })
  model_version: string;

  @ApiPropertyOptional({ example: '42' })
  id?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { trace: 'abc' } })
  parameters?: Record<string, unknown>;

  @ApiProperty({ type: [ResponseOutputTensor] })
  outputs: ResponseOutputTensor[];
}

/** Errors on /v2 routes, as the protocol defines them. */
export class InferenceErrorBody {
  @ApiProperty({ example: 'Model house-prices does not exist. List models with GET /v1/models.' })
  error: string;
}

export interface InferRouteParams {
  name: string;
  version?: string;
}

/** The protocol's error object: one message, with every listed field problem folded in. */
export function openInferenceError(details: ProblemDetails): InferenceErrorBody {
  const fields = details.errors?.map(({ field, message }) => `${field}: ${message}`) ?? [];
  return { error: [details.detail, ...fields].join(' ') };
}

const parameters = { type: 'object' };

/** A version number in a /v2 path: 1, 2, 3… */
export const VERSION_PATTERN = /^[1-9][0-9]{0,15}$/;

/** Compiled by Fastify (ajv) once; `decodeInputs` checks shapes against the model and every value. */
export const INFER_ROUTE_SCHEMA: FastifySchema = {
  params: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      version: { type: 'string', pattern: VERSION_PATTERN.source },
    },
  },
  body: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters,
      inputs: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          // `data` may be absent when the binary tensor data extension carries the elements.
          required: ['name', 'shape', 'datatype'],
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
            datatype: { type: 'string', enum: DATATYPES },
            parameters,
            data: { type: 'array' },
          },
        },
      },
      outputs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, parameters },
        },
      },
    },
  },
};

export class ServerMetadataBody {
  @ApiProperty({ example: 'modeldock' })
  name: string;

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({ type: [String], example: [] })
  extensions: string[];
}

export class TensorMetadataBody {
  @ApiProperty({ example: 'area_m2' })
  name: string;

  @ApiProperty({ example: 'FP64' })
  datatype: string;

  /** -1 is the batch dimension. */
  @ApiProperty({ type: [Number], example: [-1] })
  shape: number[];
}

export class ModelMetadataBody {
  @ApiProperty({ example: 'house-prices' })
  name: string;

  /** The ready versions, which a client may ask for by number. */
  @ApiProperty({ type: [String], example: ['1', '2', '3'] })
  versions: string[];

  /** `modeldock_<artifact format>`. */
  @ApiProperty({ example: 'modeldock_v2' })
  platform: string;

  /** One tensor per feature; a single `input-0` tensor of shape [N, features] is also accepted. */
  @ApiProperty({ type: [TensorMetadataBody] })
  inputs: TensorMetadataBody[];

  @ApiProperty({ type: [TensorMetadataBody] })
  outputs: TensorMetadataBody[];

  /** The version described, its algorithm and, for classifiers, the classes (JSON) of predict_proba's columns. */
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { version: '3', algorithm: 'linear-regression' },
  })
  properties: Record<string, string>;
}

export class ModelReadyBody {
  @ApiProperty({ example: 'house-prices' })
  name: string;

  @ApiProperty({ example: true })
  ready: boolean;
}

export class ServerLiveBody {
  @ApiProperty({ example: true })
  live: boolean;
}

export class ServerReadyBody {
  @ApiProperty({ example: true })
  ready: boolean;
}
