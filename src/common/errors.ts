/** A problem a client can fix; one global filter turns it into RFC 9457 problem details. */
export interface FieldError {
  field: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  constructor(
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends AppError {
  readonly status = 400;
  readonly title = 'Invalid input';
}

/**
 * Input that passes every check but that the model cannot compute with (its arithmetic overflows):
 * 422, so a client does not hunt for a malformed field that is not there.
 */
export class UnprocessableInputError extends AppError {
  readonly status = 422;
  readonly title = 'Unprocessable input';
}

/** A body or file larger than the route allows. */
export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly title = 'Payload too large';
}

/** A stored model version that cannot be loaded for serving (its artifact, or the runtime, failed). */
export class ModelUnavailableError extends AppError {
  readonly status = 503;
  readonly title = 'Model unavailable';
}

/**
 * A service the request depends on (the object store) failed. The answer says so and no more; the
 * cause, which names the infrastructure, is the error's `cause` and goes to the log.
 */
export class DependencyUnavailableError extends AppError {
  readonly status = 503;
  readonly title = 'Service unavailable';
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly title = 'Not found';
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly title = 'Conflict';
}

/** No valid API key; answered with `WWW-Authenticate: Bearer`. */
export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly title = 'Unauthorized';
}

/** A valid key whose role may not do this; the message names the role needed. */
export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly title = 'Forbidden';
}
