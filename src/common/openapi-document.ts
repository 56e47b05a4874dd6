import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../auth/access.decorator';
import { documentServingRoutes, SERVING_DOCUMENT_MODELS } from '../prediction/serving.openapi';
import { PROBLEM_CONTENT_TYPE } from './problem-details';
import { DOCS_PATH } from './route-policy';
import { SERVICE_VERSION } from './service-info';

/**
 * The OpenAPI document at /docs-json and the Swagger UI at /docs: what @nestjs/swagger builds from
 * the controllers and DTOs, plus what it cannot see (the serving routes registered on Fastify, the
 * one error shape, each operation's roles in words).
 */
export function setupOpenApiDocument(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('ModelDock')
      .setDescription(
        'Datasets, training jobs, a versioned model registry with aliases, and predictions. ' +
          'Errors are RFC 9457 problem details (application/problem+json).',
      )
      .setVersion(SERVICE_VERSION)
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: `Authorization: Bearer <key>`',
        },
        BEARER_SCHEME,
      )
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'The same key as a header',
        },
        API_KEY_SCHEME,
      )
      .build(),
    { extraModels: SERVING_DOCUMENT_MODELS },
  );
  documentServingRoutes(document);
  documentProblemDetails(document);
  documentRoles(document);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    swaggerOptions: { persistAuthorization: true },
  });
}

/** Swagger UI does not show `x-required-roles`; say it in each operation's description too. */
function documentRoles(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      const roles = (operation as { 'x-required-roles'?: string[] })?.['x-required-roles'];
      if (!roles) continue;
      const line = `**Roles:** ${roles.join(', ')}.`;
      operation.description = operation.description ? `${line}\n\n${operation.description}` : line;
    }
  }
}

/**
 * Every operation can answer with the one error shape; say so once for all of them. The Open
 * Inference Protocol's routes (/v2) answer errors in its own shape instead.
 */
function documentProblemDetails(document: OpenAPIObject): void {
  document.components = document.components ?? {};
  document.components.schemas = {
    ...document.components.schemas,
    ProblemDetails: {
      type: 'object',
      description: 'RFC 9457 problem details',
      required: ['type', 'title', 'status', 'detail'],
      properties: {
        type: { type: 'string', example: 'https://modeldock.dev/problems/invalid-input' },
        title: { type: 'string', example: 'Invalid input' },
        status: { type: 'integer', example: 400 },
        detail: { type: 'string', example: 'The request has 1 invalid field(s): version.' },
        errors: {
          type: 'array',
          example: [{ field: 'version', message: 'version must not be less than 1' }],
          items: {
            type: 'object',
            properties: {
              field: { type: 'string', example: 'version' },
              message: { type: 'string' },
            },
          },
        },
      },
    },
  };
  const problem = {
    description: 'An error, as problem details (4xx: the request can be fixed as the detail says).',
    content: {
      [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDetails' } },
    },
  };
  for (const [url, path] of Object.entries(document.paths)) {
    if (url.startsWith('/v2')) continue;
    for (const operation of Object.values(path)) {
      if (typeof operation === 'object' && operation && 'responses' in operation) {
        operation.responses.default = problem;
      }
    }
  }
}
