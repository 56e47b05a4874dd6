import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { InvalidInputError } from '../common/errors';

/**
 * The largest version number: the registry's `version` column is a 32-bit integer. Anything larger
 * (in particular above Number.MAX_SAFE_INTEGER, where 9007199254740993 reads as …992) is refused,
 * never rounded to another version.
 */
export const MAX_VERSION = 2_147_483_647;

/** A version as text: 1, 2, 3… (no sign, exponent, leading zero or fraction); at most 10 digits. */
export const VERSION_TEXT_PATTERN = /^[1-9][0-9]{0,9}$/;

const VERSION_RULE = `versions are whole numbers from 1 to ${MAX_VERSION}, such as 1, 2 or 3`;

/** A version number given as text (a path segment, a query parameter). */
export function parseVersion(text: string, field: string): number {
  const version = VERSION_TEXT_PATTERN.test(text) ? Number(text) : NaN;
  if (!(version <= MAX_VERSION)) {
    throw new InvalidInputError(`Version "${text}" is not a version number: ${VERSION_RULE}.`, [
      { field, message: VERSION_RULE },
    ]);
  }
  return version;
}

/** A version number already read as a number (a JSON body, a coerced query parameter). */
export function assertVersion(version: number, field: string): number {
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
    throw new InvalidInputError(
      `Version ${String(version)} is not a version number: ${VERSION_RULE}.`,
      [{ field, message: VERSION_RULE }],
    );
  }
  return version;
}

/**
 * `@VersionParam() version: number`: the `version` path segment as the client wrote it, so `01`,
 * `1e3` or `9007199254740993` are a 400 rather than read as 1, 1000 or …992 (a custom decorator's
 * value skips the global ValidationPipe, which would coerce the text to a number first).
 */
export const VersionParam = createParamDecorator(
  (_: unknown, context: ExecutionContext) => {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return parseVersion((request.params as Record<string, string>).version, 'version');
  },
  [
    (target: object, key: string | symbol | undefined) => {
      if (key === undefined) return;
      const descriptor = Object.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
      ApiParam({
        name: 'version',
        schema: { type: 'integer', minimum: 1, maximum: MAX_VERSION },
        example: 1,
      })(target, key, descriptor);
    },
  ],
);
