import Ajv, { ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

const SPEC = 'oip';
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(
  parse(
    readFileSync(
      path.join(__dirname, '..', 'fixtures', 'open-inference', 'open_inference_rest.yaml'),
      'utf8',
    ),
  ),
  SPEC,
);

/** Asserts that `body` is valid against a component schema of the protocol's OpenAPI document. */
export function expectSchema(schema: string, body: unknown): void {
  const validate = ajv.getSchema(`${SPEC}#/components/schemas/${schema}`) as ValidateFunction;
  if (!validate) throw new Error(`no schema ${schema} in the Open Inference Protocol document`);
  const valid = validate(body);
  expect({ schema, valid, errors: validate.errors ?? null }).toEqual({
    schema,
    valid: true,
    errors: null,
  });
}
