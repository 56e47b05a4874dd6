import type { FieldProblem } from './field-problem';
import {
  LinearModelArtifactV2,
  LogisticModelArtifactV2,
  ModelArtifactV1,
  rawCoefficients,
  validateArtifact,
} from './artifact';

function valid(): ModelArtifactV1 {
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
function errorsFor(
  edit: (doc: Record<string, unknown>) => void,
  artifact: object = valid(),
): FieldProblem[] {
  const doc = JSON.parse(JSON.stringify(artifact)) as Record<string, unknown>;
  edit(doc);
  const result = validateArtifact(doc);
  expect(result.artifact).toBeUndefined();
  return result.errors ?? [];
}

function fields(errors: FieldProblem[]): string[] {
  return errors.map((e) => e.field);
}

describe('validateArtifact: modeldock/v1', () => {
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
    const wrong = errorsFor((d) => (d.format = 'modeldock/v3'));
    expect(wrong[0]).toEqual({
      field: 'format',
      message:
        'Unsupported format "modeldock/v3"; expected "modeldock/v2" (or "modeldock/v1" for older models).',
    });
    expect(fields(errorsFor((d) => delete d.format))[0]).toEqual('format');
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
        message: 'coefficients has 2 values but needs 3: one value per input, in input order.',
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
      d.algorithm = 'other';
      d.coefficients = [1, 2, 3, 4];
      d.intercept = null;
    });
    expect(fields(errors)).toEqual(['algorithm', 'coefficients', 'intercept']);
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

function linearV2(): LinearModelArtifactV2 {
  return {
    format: 'modeldock/v2',
    algorithm: 'ridge-regression',
    inputs: [
      { name: 'area', type: 'number' },
      { name: 'city', type: 'string' },
      { name: 'age', type: 'number' },
    ],
    output: { name: 'price', type: 'number' },
    preprocessing: [
      { impute: 100, mean: 100, scale: 40 },
      { impute: 'Oslo', categories: ['Bergen', 'Oslo', 'Tromsø'] },
      { impute: 20, mean: 20, scale: 10 },
    ],
    coefficients: [50000, -3000, 9000, -1000, -8000],
    intercept: 250000,
  };
}

function logisticV2(): LogisticModelArtifactV2 {
  return {
    format: 'modeldock/v2',
    algorithm: 'logistic-regression',
    inputs: [
      { name: 'length', type: 'number' },
      { name: 'colour', type: 'string' },
    ],
    output: { name: 'species', type: 'string' },
    preprocessing: [
      { impute: 5, mean: 5, scale: 0.8 },
      { impute: 'red', categories: ['blue', 'red'] },
    ],
    classes: ['setosa', 'versicolor', 'virginica'],
    weights: [
      [-2, 0.5, -0.5],
      [0.3, 0, 0.1],
      [1.7, -0.5, 0.4],
    ],
    intercepts: [0.2, 1.1, -1.3],
  };
}

describe('validateArtifact: modeldock/v2', () => {
  it('accepts linear and logistic models and returns clean copies', () => {
    for (const artifact of [linearV2(), logisticV2()]) {
      const result = validateArtifact({ ...JSON.parse(JSON.stringify(artifact)), note: 'x' });
      expect(result.errors).toBeUndefined();
      expect(result.artifact).toEqual(artifact);
    }
  });

  it('accepts a binary model with one row of weights and numeric classes', () => {
    const binary = {
      ...logisticV2(),
      output: { name: 'benign', type: 'number' },
      classes: [0, 1],
      weights: [[1, 2, 3]],
      intercepts: [0.5],
    };
    expect(validateArtifact(binary).errors).toBeUndefined();
  });

  it('points at the exact preprocessing value and says how to fix it', () => {
    const errors = errorsFor((d) => {
      const p = d.preprocessing as Record<string, unknown>[];
      p[0].scale = 0;
      p[1].categories = ['Bergen', 7, 'Bergen'];
      p[2].impute = null;
    }, linearV2());
    expect(errors).toEqual([
      {
        field: 'preprocessing[0].scale',
        message:
          'preprocessing[0].scale is 0 but must be greater than 0, because the input is divided ' +
          'by it (use 1 to leave it unscaled).',
      },
      {
        field: 'preprocessing[1].categories[1]',
        message: 'preprocessing[1].categories[1] must be a string, got 7.',
      },
      {
        field: 'preprocessing[1].categories[2]',
        message:
          'preprocessing[1].categories[2] "Bergen" repeats preprocessing[1].categories[0]; ' +
          'categories must be unique.',
      },
      {
        field: 'preprocessing[2].impute',
        message:
          'preprocessing[2].impute must be a finite number (the value used when missing), got null.',
      },
    ]);
  });

  it('requires the imputed category to be a category and an entry of the input’s kind', () => {
    const errors = errorsFor((d) => {
      const p = d.preprocessing as unknown[];
      (p[1] as Record<string, unknown>).impute = 'Paris';
      p[2] = { impute: 'x', categories: ['x'] };
    }, linearV2());
    expect(fields(errors)).toEqual([
      'preprocessing[1].impute',
      'preprocessing[2].impute',
      'preprocessing[2].mean',
      'preprocessing[2].scale',
    ]);
    expect(errors[0].message).toMatch(/"Paris" is not one of preprocessing\[1\]\.categories/);
  });

  it('requires one preprocessing entry per input', () => {
    const errors = errorsFor((d) => (d.preprocessing as unknown[]).pop(), linearV2());
    expect(errors).toEqual([
      {
        field: 'preprocessing',
        message:
          'preprocessing has 2 entries but inputs has 3; provide exactly one per input, in the same order.',
      },
    ]);
    expect(fields(errorsFor((d) => delete d.preprocessing, linearV2()))).toEqual(['preprocessing']);
  });

  it('counts coefficients over the encoded columns: 1 per number, 1 per category', () => {
    const errors = errorsFor((d) => (d.coefficients = [1, 2, 3]), linearV2());
    expect(errors).toEqual([
      {
        field: 'coefficients',
        message:
          'coefficients has 3 values but needs 5: one value per encoded column: 1 per number ' +
          'input and 1 per category of a string input, in input order.',
      },
    ]);
  });

  it('points at the exact weight, and checks the shape of weights and intercepts', () => {
    const bad = errorsFor((d) => ((d.weights as unknown[][])[1][2] = 'x'), logisticV2());
    expect(bad).toEqual([
      { field: 'weights[1][2]', message: 'weights[1][2] must be a finite number, got "x".' },
    ]);
    const short = errorsFor((d) => {
      (d.weights as unknown[][])[2].pop();
      (d.intercepts as unknown[]).pop();
    }, logisticV2());
    expect(fields(short)).toEqual(['weights[2]', 'intercepts']);
    const rows = errorsFor((d) => (d.weights as unknown[]).pop(), logisticV2());
    expect(rows[0].message).toMatch(/weights has 2 rows but must have 3: one row for 2 classes/);
    const binary = errorsFor((d) => (d.classes = ['a', 'b']), logisticV2());
    expect(fields(binary)).toEqual(['weights', 'intercepts']);
  });

  it('checks the classes: at least 2, unique, of the output type', () => {
    expect(fields(errorsFor((d) => (d.classes = ['a']), logisticV2()))).toEqual(['classes']);
    expect(fields(errorsFor((d) => (d.classes = ['a', 'b', 'a']), logisticV2()))).toEqual([
      'classes[2]',
    ]);
    expect(fields(errorsFor((d) => (d.classes = ['a', 1, 'c']), logisticV2()))).toEqual([
      'classes[1]',
    ]);
    expect(
      fields(errorsFor((d) => (d.output = { name: 'species', type: 'number' }), logisticV2())),
    ).toEqual(['classes[0]', 'classes[1]', 'classes[2]']);
  });

  it('accepts string inputs and outputs only where v2 allows them', () => {
    expect(
      fields(errorsFor((d) => (d.output = { name: 'price', type: 'string' }), linearV2())),
    ).toEqual(['output.type']);
    expect(fields(errorsFor((d) => (d.algorithm = 'random-forest'), linearV2()))).toEqual([
      'algorithm',
    ]);
    const inputType = errorsFor(
      (d) => ((d.inputs as { type: string }[])[0].type = 'date'),
      linearV2(),
    );
    expect(inputType[0]).toEqual({
      field: 'inputs[0].type',
      message: 'inputs[0].type must be "number" or "string", got "date".',
    });
  });

  it('refuses weights that overflow once divided by a tiny scale', () => {
    const linear = errorsFor((d) => {
      (d.preprocessing as Record<string, unknown>[])[2].scale = 1e-300;
      (d.coefficients as number[])[4] = 1e300;
    }, linearV2());
    expect(fields(linear)).toEqual(['coefficients[4]']);
    const logistic = errorsFor((d) => {
      (d.preprocessing as Record<string, unknown>[])[0].scale = 1e-300;
      (d.weights as number[][])[1][0] = 1e300;
    }, logisticV2());
    expect(fields(logistic)).toEqual(['weights[1][0]']);
  });
});

describe('rawCoefficients: modeldock/v2', () => {
  it('folds the number inputs’ standardisation and leaves one-hot columns as they are', () => {
    // w = [50000/40, -3000, 9000, -1000, -8000/10]; b = 250000 - 1250·100 - (-800)·20
    expect(rawCoefficients(linearV2())).toEqual({
      coefficients: [1250, -3000, 9000, -1000, -800],
      intercept: 250000 - 125000 + 16000,
    });
  });
});
