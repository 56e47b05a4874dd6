import { PipeTransform } from '@nestjs/common';
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

/** `@Param('version', VersionPipe)`: a 400 problem for anything but 1…MAX_VERSION. */
export const VersionPipe: PipeTransform<string, number> = {
  transform: (text) => parseVersion(text, 'version'),
};
