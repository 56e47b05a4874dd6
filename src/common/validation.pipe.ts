import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, InvalidInputError } from './errors';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** class-validator for management routes; unknown properties are rejected so typos surface. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const fieldErrors = flatten(errors);
      return new InvalidInputError(
        `The request has ${fieldErrors.length} invalid field(s): ${fieldErrors.map((e) => e.field).join(', ')}.`,
        fieldErrors,
      );
    },
  });
}
