import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FastifySchema } from 'fastify';
import { NAME_PATTERN } from '../../common/names';
import { VERSION_TEXT_PATTERN } from '../../models/version-number';

/** Documentation only: the body is checked by the route's compiled JSON schema below. */
export class PredictRequest {
  @ApiProperty({
    description:
      "Rows to predict: arrays in the order of the version's inputSchema, or objects keyed by feature name. " +
      'null (or a missing key) is a missing value, imputed by models trained here.',
    example: [{ x1: 1.5, x2: 2.0 }],
  })
  instances: (number[] | Record<string, number>)[];
}

export class PredictResponse {
  @ApiProperty({ example: 'sales-forecast' })
  model: string;

  /** The version that answered (also in the X-Model-Version header). */
  @ApiProperty({ example: 2 })
  version: number;

  /** Numbers from a regressor; class labels from a classifier. */
  @ApiProperty({ example: [3.52, 4.1] })
  predictions: (number | string)[];

  /** Classifiers only: the probability of each class, in `classes` order, per instance. */
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    example: [[0.91, 0.07, 0.02]],
  })
  probabilities?: number[][];

  /** Classifiers only: the class labels. */
  @ApiPropertyOptional({ example: ['setosa', 'versicolor', 'virginica'] })
  classes?: (number | string)[];
}

export interface PredictBody {
  instances: unknown[];
}

export interface PredictQuery {
  version?: string;
  alias?: string;
}

/** Compiled by Fastify (ajv) once; checks the shape, `parseInstances` checks every value. */
export const PREDICT_ROUTE_SCHEMA: FastifySchema = {
  body: {
    type: 'object',
    required: ['instances'],
    properties: {
      instances: {
        type: 'array',
        minItems: 1,
        items: { anyOf: [{ type: 'array' }, { type: 'object' }] },
      },
    },
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      // Checked as written: coerced to a number first, `01`, `1e0` or `9007199254740993` would
      // read as another version.
      version: { type: 'string', pattern: VERSION_TEXT_PATTERN.source },
      alias: { type: 'string', pattern: NAME_PATTERN.source },
    },
  },
};
