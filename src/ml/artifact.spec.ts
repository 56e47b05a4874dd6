import { ArtifactError, LinearModelArtifact, rawCoefficients, validateArtifact } from './artifact';

function valid(): LinearModelArtifact {
  return {
    format: 'modeldock/v1',
    algorithm: 'linear-regression',
    inputs: [
      { name: 'area', type: 'number' },
      { name: 'rooms', type: 'number' },
      { name: 'age', type: 'number' },
    ],
    output: { name: 'price', type: 'number' },
    preprocessing: { standardize: { mean: [100, 3, 20], scale: [40, 1.5, 10] } },
    coefficients: [50000, 12000, -8000],
    intercept: 250000,
  };
}

/** The errors for a copy of the valid artifact changed by `edit`. */
function errorsFor(edit: (doc: Record<string, unknown>) => void): ArtifactError[] {
  const doc = JSON.parse(JSON.stringify(valid())) as Record<string, unknown>;
  edit(doc);
  const result = validateArtifact(doc);
  expect(result.artifact).toBeUndefined();
  return result.errors ?? [];
}

function fields(errors: ArtifactError[]): string[] {
  return errors.map((e) => e.field);
}

describe('validateArtifact', () => {
  it('accepts a valid artifact and returns a copy with only the known fields', () => {
    const doc = { ...valid(), trainedBy: 'sklearn', extra: { nested: true } };
    const result = validateArtifact(doc);
    expect(result.errors).toBeUndefined();
    expect(result.artifact).toEqual(valid());
    expect(result.artifact).not.toBe(doc);
  });

  it('accepts coefficients without preprocessing, as exported by other tools', () => {
    const { preprocessing: _, ...plain } = valid();
    expect(validateArtifact(plain).artifact).toEqual(plain);
    expect(validateArtifact({ ...plain, preprocessing: {} }).artifact).toEqual(plain);
  });

  it('rejects a document that is not an object, at the root path "$"', () => {
    for (const doc of [null, 42, 'model', [valid()]]) {
      expect(validateArtifact(doc).errors).toEqual([
        { field: '$', message: 'The model artifact must be a JSON object.' },
      ]);
    }
  });

  it('rejects a wrong or missing format string and names the expected one', () => {
    const wrong = errorsFor((d) => (d.format = 'modeldock/v2'));
    expect(wrong).toEqual([
      { field: 'format', message: 'Unsupported format "modeldock/v2"; expected "modeldock/v1".' },
    ]);
    expect(fields(errorsFor((d) => delete d.format))).toEqual(['format']);
  });

  it('rejects an unknown algorithm', () => {
    const errors = errorsFor((d) => (d.algorithm = 'random-forest'));
    expect(fields(errors)).toEqual(['algorithm']);
    expect(errors[0].message).toMatch(/"random-forest".*"linear-regression"/);
  });

  it('rejects missing or empty inputs', () => {
    expect(fields(errorsFor((d) => (d.inputs = [])))).toEqual(['inputs']);
    expect(fields(errorsFor((d) => delete d.inputs))).toEqual(['inputs']);
  });

  it('rejects empty and duplicate feature names at the offending input', () => {
    const empty = errorsFor((d) => ((d.inputs as { name: string }[])[1].name = '  '));
    expect(fields(empty)).toEqual(['inputs[1].name']);
    const duplicate = errorsFor((d) => ((d.inputs as { name: string }[])[2].name = 'area'));
    expect(duplicate).toEqual([
      {
        field: 'inputs[2].name',
        message: 'inputs[2].name "area" duplicates inputs[0].name; feature names must be unique.',
      },
    ]);
  });

  it('rejects non-numeric feature types and malformed input entries', () => {
    expect(fields(errorsFor((d) => ((d.inputs as { type: string }[])[0].type = 'string')))).toEqual(
      ['inputs[0].type'],
    );
    expect(fields(errorsFor((d) => ((d.inputs as unknown[])[2] = 'age')))).toEqual(['inputs[2]']);
  });

  it('rejects a missing output name or a non-numeric output', () => {
    expect(fields(errorsFor((d) => (d.output = { type: 'number' })))).toEqual(['output.name']);
    expect(fields(errorsFor((d) => (d.output = { name: 'y', type: 'category' })))).toEqual([
      'output.type',
    ]);
    expect(fields(errorsFor((d) => delete d.output))).toEqual(['output']);
  });

  it('rejects coefficients whose count disagrees with the inputs, saying both counts', () => {
    const errors = errorsFor((d) => (d.coefficients = [1, 2]));
    expect(errors).toEqual([
      {
        field: 'coefficients',
        message:
          'coefficients has 2 values but inputs has 3 features; ' +
          'provide exactly one value per input, in the same order.',
      },
    ]);
  });

  it('rejects non-finite or non-numeric coefficients at their index', () => {
    const errors = errorsFor((d) => (d.coefficients = [1, NaN, '3']));
    expect(fields(errors)).toEqual(['coefficients[1]', 'coefficients[2]']);
    expect(errors[1].message).toBe('coefficients[2] must be a finite number, got "3".');
    expect(fields(errorsFor((d) => (d.coefficients = [1, Infinity, 3])))).toEqual([
      'coefficients[1]',
    ]);
    expect(fields(errorsFor((d) => delete d.coefficients))).toEqual(['coefficients']);
  });

  it('rejects a missing or non-finite intercept', () => {
    expect(fields(errorsFor((d) => delete d.intercept))).toEqual(['intercept']);
    expect(fields(errorsFor((d) => (d.intercept = '1')))).toEqual(['intercept']);
  });

  it('rejects standardisation arrays of the wrong length', () => {
    const errors = errorsFor((d) => {
      (d.preprocessing as { standardize: { mean: number[] } }).standardize.mean = [1, 2];
    });
    expect(fields(errors)).toEqual(['preprocessing.standardize.mean']);
  });

  it('rejects a scale that is zero or negative, since features are divided by it', () => {
    const errors = errorsFor((d) => {
      (d.preprocessing as { standardize: { scale: number[] } }).standardize.scale = [40, 0, -1];
    });
    expect(fields(errors)).toEqual([
      'preprocessing.standardize.scale[1]',
      'preprocessing.standardize.scale[2]',
    ]);
    expect(errors[0].message).toMatch(/must be greater than 0/);
  });

  it('rejects a malformed preprocessing block', () => {
    expect(fields(errorsFor((d) => (d.preprocessing = 'standard')))).toEqual(['preprocessing']);
    expect(fields(errorsFor((d) => (d.preprocessing = { standardize: [1] })))).toEqual([
      'preprocessing.standardize',
    ]);
    expect(
      fields(errorsFor((d) => (d.preprocessing = { standardize: { mean: [0, 0, 0] } }))),
    ).toEqual(['preprocessing.standardize.scale']);
  });

  it('rejects values that are finite alone but overflow once folded for serving', () => {
    const errors = errorsFor((d) => {
      d.coefficients = [1e300, 1, 1];
      (d.preprocessing as { standardize: { scale: number[] } }).standardize.scale = [1e-10, 1, 1];
    });
    expect(fields(errors)).toEqual(['coefficients[0]']);
  });

  it('reports every problem at once so the user can fix them in one pass', () => {
    const errors = errorsFor((d) => {
      d.format = 'other';
      d.coefficients = [1, 2, 3, 4];
      d.intercept = null;
    });
    expect(fields(errors)).toEqual(['format', 'coefficients', 'intercept']);
  });
});

describe('rawCoefficients', () => {
  it('folds standardisation into raw-space weights and intercept (hand-computed)', () => {
    // w = [50000/40, 12000/1.5, -8000/10] = [1250, 8000, -800]
    // b = 250000 - (1250*100 + 8000*3 - 800*20) = 250000 - 133000 = 117000
    expect(rawCoefficients(valid())).toEqual({
      coefficients: [1250, 8000, -800],
      intercept: 117000,
    });
  });

  it('returns the coefficients unchanged when there is no standardisation', () => {
    const { preprocessing: _, ...plain } = valid();
    expect(rawCoefficients(plain)).toEqual({
      coefficients: [50000, 12000, -8000],
      intercept: 250000,
    });
  });
});
