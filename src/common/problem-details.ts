import { HttpException, HttpStatus } from '@nestjs/common';
import { AppError, FieldError } from './errors';

/** RFC 9457 problem details, the one error shape of the API. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://modeldock.dev/problems/';

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function problem(
  status: number,
  title: string,
  detail: string,
  errors?: FieldError[],
): ProblemDetails {
  return {
    type: TYPE_BASE + slug(title),
    title,
    status,
    detail,
    ...(errors?.length ? { errors } : {}),
  };
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}

function fromFastifyError(error: FastifyLikeError): ProblemDetails | undefined {
  if (error.validation) {
    const where = error.validationContext ?? 'body';
    const errors = error.validation.map((issue) => {
      const missing = issue.params?.missingProperty as string | undefined;
      const extra = issue.params?.additionalProperty as string | undefined;
      const path = (issue.instancePath ?? '')
        .replace(/^\//, '')
        .replace(/\/(\d+)/g, '[$1]')
        .replace(/\//g, '.');
      const field = [where, path, missing ?? extra].filter(Boolean).join('.').replace(/\.\[/g, '[');
      const message = extra
        ? `is not a known property; remove it`
        : (issue.message ?? 'is invalid');
      return { field, message };
    });
    return problem(
      400,
      'Invalid input',
      `The request ${where} does not match the expected shape.`,
      errors,
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'Malformed JSON', `The request body is not valid JSON: ${error.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'Unsupported media type', `${error.message}. Send application/json.`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem(400, 'Bad request', error.message);
  }
  if (error instanceof SyntaxError && /forbidden prototype property/.test(error.message)) {
    return problem(
      400,
      'Invalid input',
      'The JSON body has a "__proto__" or "constructor.prototype" key, which is refused; rename or remove it.',
    );
  }
  if (error instanceof SyntaxError && /JSON/.test(error.message)) {
    return problem(400, 'Malformed JSON', `The request body is not valid JSON: ${error.message}`);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return problem(error.statusCode, HttpStatus[error.statusCode] ?? 'Bad request', error.message);
  }
  return undefined;
}

function fromHttpException(exception: HttpException): ProblemDetails {
  const status = exception.getStatus();
  const response = exception.getResponse();
  const title = (HttpStatus[status] ?? 'Error')
    .toLowerCase()
    .replace(/_/g, ' ')
    .replace(/^./, (c) => c.toUpperCase());
  if (typeof response === 'object' && response !== null && 'errors' in response) {
    const body = response as { message?: string; errors: FieldError[] };
    return problem(status, title, body.message ?? exception.message, body.errors);
  }
  const message =
    typeof response === 'object' && response !== null && 'message' in response
      ? (response as { message: string | string[] }).message
      : exception.message;
  return problem(status, title, Array.isArray(message) ? message.join('; ') : String(message));
}

/** Maps any thrown value to problem details; `undefined` for server faults (a bug: log it, hide it). */
export function toProblemDetails(error: unknown): ProblemDetails | undefined {
  if (error instanceof AppError)
    return problem(error.status, error.title, error.message, error.errors);
  if (error instanceof HttpException) {
    const details = fromHttpException(error);
    return details.status >= 500 ? undefined : details;
  }
  if (error instanceof Error) return fromFastifyError(error as FastifyLikeError);
  return undefined;
}

export const INTERNAL_ERROR: ProblemDetails = problem(
  500,
  'Internal server error',
  'The server failed to handle this request. It has been logged; please report it if it persists.',
);
