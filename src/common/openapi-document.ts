import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type {
  OperationObject,
  RequestBodyObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
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
  documentPathParameterExamples(document);
  documentNonJsonBodies(document);
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

/**
 * Path parameters come from `@Param()`, which carries no example; Swagger UI would leave them
 * blank. These are the names the request examples create (dataset `sales` → model
 * `sales-forecast`, version 1, alias `staging`), so "Try it out" runs them in order as they are.
 */
const PATH_PARAMETER_EXAMPLES: Record<string, string | number> = {
  name: 'sales-forecast',
  version: 1,
  alias: 'staging',
};

function documentPathParameterExamples(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      for (const parameter of (operation as OperationObject)?.parameters ?? []) {
        if (!('in' in parameter) || parameter.in !== 'path' || parameter.example !== undefined) {
          continue;
        }
        const example = PATH_PARAMETER_EXAMPLES[parameter.name];
        if (example !== undefined) parameter.example = example;
      }
    }
  }
}

/**
 * @nestjs/swagger gives every media type of a body the JSON DTO's schema and examples. A CSV body
 * is text: its example is the JSON example's table as CSV (so the two cannot drift apart), and a
 * multipart form has a `file` part (and may name it).
 */
function documentNonJsonBodies(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      const content = ((operation as OperationObject)?.requestBody as RequestBodyObject)?.content;
      const json = content?.['application/json'];
      if (!json) continue;
      const first = Object.values(json.examples ?? {})[0] as { value?: unknown } | undefined;
      const table = (json.example ?? first?.value) as Parameters<typeof csvOf>[0];
      for (const mediaType of ['text/csv', 'application/csv', 'text/plain']) {
        if (!content[mediaType]) continue;
        content[mediaType] = { schema: { type: 'string' }, example: csvOf(table) };
      }
      if (content['multipart/form-data']) {
        content['multipart/form-data'] = {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: { type: 'string', format: 'binary', description: 'A CSV (or JSON) file' },
              name: { type: 'string', description: 'The name (else ?name=, else the file name)' },
            },
          },
        };
      }
    }
  }
}

/** `{ columns, rows }` as CSV text with a header row. */
function csvOf(table: { columns?: string[]; rows?: unknown[][] } | undefined): string | undefined {
  if (!table?.columns || !table.rows) return undefined;
  return [table.columns, ...table.rows].map((row) => row.join(',')).join('\n') + '\n';
}
