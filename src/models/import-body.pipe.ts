import { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { InvalidInputError } from '../common/errors';
import { createValidationPipe } from '../common/validation.pipe';
import { ImportVersionQuery, ImportVersionRequest } from './dto/model-version.dto';
import { UploadedModelFile } from './model-uploads';
import type { OnnxImportOptions as ImportOptions } from './onnx-imports.service';

/** An import's body in any form, with what it carries beside the artifact. */
export interface ImportBody {
  artifact: unknown;
  /** An ONNX file, streamed in (octet-stream or a form's file part). */
  file?: UploadedModelFile;
  /** Set by the wrapped form; the as-is form takes these from the query string. */
  options: ImportOptions | null;
}

const wrappedForm = createValidationPipe();
const WRAPPED_METADATA: ArgumentMetadata = { type: 'body', metatype: ImportVersionRequest };

/**
 * `POST …/versions` takes the artifact as downloaded (`--data-binary @m.json`) or wrapped
 * (`{ "artifact": …, "alias": … }`). A body with an `artifact` property is the wrapped form,
 * checked like every request body; anything else is the artifact itself, checked field by field
 * by the registry.
 */
export class ImportBodyPipe implements PipeTransform<unknown, Promise<ImportBody>> {
  async transform(body: unknown): Promise<ImportBody> {
    if (body instanceof UploadedModelFile)
      return { artifact: undefined, file: body, options: null };
    if (typeof body !== 'object' || body === null || !('artifact' in body)) {
      return { artifact: body, options: null };
    }
    const request = (await wrappedForm.transform(body, WRAPPED_METADATA)) as ImportVersionRequest;
    const { artifact, ...options } = request;
    return { artifact, options };
  }
}

/** Query parameters that only an ONNX file's registration reads. */
const ONNX_OPTIONS = ['classes', 'features', 'maxBatchSize', 'maxQueueDelayMicros'] as const;

/** The as-is form's options from the query; the wrapped form keeps them in its body only. */
export function importOptions(body: ImportBody, query: ImportVersionQuery): ImportOptions {
  const onnxOnly = ONNX_OPTIONS.filter((option) => query[option] !== undefined);
  if (!body.file && onnxOnly.length > 0) {
    throw new InvalidInputError(
      `${onnxOnly.join(', ')} apply to ONNX models only (sent as application/octet-stream or a form's file part); a JSON artifact takes alias, description and tag.`,
      onnxOnly.map((option) => ({
        field: `querystring.${option}`,
        message: 'is for ONNX models only',
      })),
    );
  }
  const fromQuery = query.alias !== undefined || query.description !== undefined || query.tag;
  if (body.options) {
    if (fromQuery) {
      throw new InvalidInputError(
        'With the wrapped form ({ "artifact": … }) give alias, description and tags in the body; ' +
          'query parameters are for an artifact posted as it is.',
        [{ field: 'querystring', message: 'must be empty with the wrapped form' }],
      );
    }
    return body.options;
  }
  return {
    alias: query.alias,
    description: query.description,
    tags: query.tag && Object.fromEntries(query.tag.map(splitTag)),
    ...(body.file ? pick(query, ONNX_OPTIONS) : {}),
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<T> {
  return Object.fromEntries(
    keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]),
  ) as unknown as Partial<T>;
}

function splitTag(tag: string): [string, string] {
  const colon = tag.indexOf(':');
  return [tag.slice(0, colon), tag.slice(colon + 1)];
}
