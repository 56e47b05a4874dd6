import { ValidateBy, ValidationOptions } from 'class-validator';

export const MAX_TAGS = 50;
const MAX_TAG_LENGTH = 256;

/** Tags are a flat map of short strings, like MLflow's: `{ "team": "growth" }`. */
export function IsTags(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTags',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= MAX_TAGS &&
          Object.entries(value).every(
            ([key, tag]) =>
              key.length > 0 &&
              key.length <= MAX_TAG_LENGTH &&
              typeof tag === 'string' &&
              tag.length <= MAX_TAG_LENGTH,
          ),
        defaultMessage: () =>
          `$property must be an object of at most ${MAX_TAGS} string values (keys and values up to ${MAX_TAG_LENGTH} characters)`,
      },
    },
    options,
  );
}
