import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, InvalidInputError } from './errors';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    // One entry per field: a missing value fails each of its decorators (IsString, MaxLength, …).
    // class-validator reports the bottom decorator first; reversed, they read as declared.
    const messages = Object.values(error.constraints ?? {}).reverse();
    const own = messages.length > 0 ? [{ field, message: messages.join('; ') }] : [];
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
