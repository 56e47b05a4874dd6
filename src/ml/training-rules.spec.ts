import { trainValidationSplit } from './split';
import {
  ColumnSummaryLike,
  MAX_CATEGORIES,
  MAX_CLASSES,
  MIN_TRAIN_ROWS,
  TrainingInputFacts,
  checkTrainingInput,
  describeTrainingInputProblems,
  validationRowCount,
} from './training-rules';

const numbers = (name: string, distinct = 50, missing = 0): ColumnSummaryLike => ({
  name,
  type: 'number',
  distinct,
  missing,
});
const strings = (name: string, distinct = 3, missing = 0): ColumnSummaryLike => ({
  name,
  type: 'string',
  distinct,
  missing,
});

function facts(overrides: Partial<TrainingInputFacts> = {}): TrainingInputFacts {
  return {
    algorithm: 'linear-regression',
    target: numbers('y'),
    features: [numbers('x1'), strings('city')],
    rowCount: 1000,
    validationSplit: 0.2,
    ...overrides,
  };
}

const fields = (input: TrainingInputFacts) => checkTrainingInput(input).map((p) => p.field);

describe('checkTrainingInput', () => {
  it('finds nothing wrong with a fitting input, for every algorithm', () => {
    expect(checkTrainingInput(facts())).toEqual([]);
    expect(checkTrainingInput(facts({ algorithm: 'ridge-regression' }))).toEqual([]);
    expect(
      checkTrainingInput(facts({ algorithm: 'logistic-regression', target: strings('label') })),
    ).toEqual([]);
  });

  it('reports every problem at once, each by field', () => {
    const problems = checkTrainingInput(
      facts({
        features: [numbers('y'), strings('id', MAX_CATEGORIES + 1)],
        target: numbers('y', 50, 3),
        validationSplit: 0.95,
      }),
    );
    expect(problems.map((p) => p.field)).toEqual([
      'features[0]',
      'features[1]',
      'target',
      'validationSplit',
    ]);
  });

  describe('algorithm', () => {
    it('names the algorithms there are', () => {
      expect(checkTrainingInput(facts({ algorithm: 'random-forest' as never }))).toEqual([
        {
          field: 'algorithm',
          message:
            'unknown algorithm random-forest; use linear-regression, ridge-regression, logistic-regression',
        },
      ]);
    });
  });

  describe('features', () => {
    it('needs at least one', () => {
      expect(checkTrainingInput(facts({ features: [] }))).toEqual([
        { field: 'features', message: 'select at least one feature column to train on' },
      ]);
    });

    it('refuses the target as a feature, a feature twice and an empty name, by position', () => {
      const problems = checkTrainingInput(
        facts({ features: [numbers('x1'), numbers('y'), numbers('x1'), numbers(' ')] }),
      );
      expect(problems).toEqual([
        { field: 'features[1]', message: 'y is the target; remove it from the features' },
        { field: 'features[2]', message: 'x1 is listed more than once; list it once' },
        { field: 'features[3]', message: 'a feature name must not be empty' },
      ]);
    });

    it(`one-hot encodes up to ${MAX_CATEGORIES} distinct strings, and says what to do beyond`, () => {
      expect(fields(facts({ features: [strings('city', MAX_CATEGORIES)] }))).toEqual([]);
      expect(
        checkTrainingInput(facts({ features: [strings('city', MAX_CATEGORIES + 1)] })),
      ).toEqual([
        {
          field: 'features[0]',
          message: `column city has more than ${MAX_CATEGORIES} distinct strings, too many to one-hot encode; drop it or group its values`,
        },
      ]);
    });

    it('does not count the distinct values of number features (they are scaled, not encoded)', () => {
      expect(fields(facts({ features: [numbers('x', 1_000_000)] }))).toEqual([]);
    });

    it('accepts missing feature values (the model imputes them)', () => {
      expect(fields(facts({ features: [numbers('x', 10, 400), strings('s', 3, 400)] }))).toEqual(
        [],
      );
    });
  });

  describe('target of a regression', () => {
    it('needs a value in every row, saying how many are missing', () => {
      expect(checkTrainingInput(facts({ target: numbers('y', 50, 2) }))).toEqual([
        {
          field: 'target',
          message:
            'column y is missing in 2 of 1000 rows; a target cannot be imputed: fill them in or drop those rows',
        },
      ]);
    });

    it('must hold numbers, pointing to logistic-regression for labels', () => {
      expect(
        checkTrainingInput(facts({ algorithm: 'ridge-regression', target: strings('label') })),
      ).toEqual([
        {
          field: 'target',
          message:
            'column label holds strings (class labels); ridge-regression predicts numbers, use logistic-regression',
        },
      ]);
    });
  });

  describe('target of logistic-regression', () => {
    const classify = (target: ColumnSummaryLike, rowCount = 1000) =>
      checkTrainingInput(facts({ algorithm: 'logistic-regression', target, rowCount }));

    it.each([
      ['string', strings('label', 1)],
      ['number', numbers('label', 1)],
    ])('refuses a %s target with a single class', (_type, target) => {
      expect(classify(target)).toEqual([
        {
          field: 'target',
          message:
            'column label has a single class; logistic-regression needs at least 2 classes to tell apart',
        },
      ]);
    });

    it('refuses a target without labels (all missing) once for each reason', () => {
      expect(classify(strings('label', 0, 1000)).map((p) => p.message)).toEqual([
        'column label is missing in 1000 of 1000 rows; a target cannot be imputed: fill them in or drop those rows',
        'column label has no class label; logistic-regression needs at least 2 classes to tell apart',
      ]);
    });

    it(`accepts exactly ${MAX_CLASSES} classes and refuses one more, numbers pointing to regression`, () => {
      expect(classify(numbers('label', MAX_CLASSES))).toEqual([]);
      expect(classify(strings('label', MAX_CLASSES))).toEqual([]);
      expect(classify(numbers('y', MAX_CLASSES + 1))).toEqual([
        {
          field: 'target',
          message: `column y has ${MAX_CLASSES + 1} distinct values in 1000 rows, too many to be class labels (at most ${MAX_CLASSES}, repeating); to predict a number, use linear-regression or ridge-regression`,
        },
      ]);
      expect(classify(strings('label', MAX_CLASSES + 1))).toEqual([
        {
          field: 'target',
          message: `column label has ${MAX_CLASSES + 1} distinct labels in 1000 rows; logistic-regression needs at most ${MAX_CLASSES} class labels that repeat, such as "yes"/"no"`,
        },
      ]);
    });

    it('says "more than" when the count was capped', () => {
      expect(classify(numbers('id', MAX_CATEGORIES + 1))[0].message).toMatch(
        `has more than ${MAX_CATEGORIES} distinct values`,
      );
    });

    it('refuses labels that mostly do not repeat, but not 2 classes in 2 or 3 rows', () => {
      expect(classify(strings('label', 3), 6)).toEqual([]);
      expect(classify(strings('label', 3), 4)[0].message).toMatch(/3 distinct labels in 4 rows/);
      expect(classify(numbers('label', 3), 4)[0].message).toMatch(/3 distinct values in 4 rows/);
      expect(classify(strings('label', 2), 2)).toEqual([]);
      expect(classify(strings('label', 2), 3)).toEqual([]);
    });
  });

  describe('rows and validationSplit', () => {
    it('keeps validationSplit between 0 and 0.9', () => {
      expect(fields(facts({ validationSplit: 0 }))).toEqual([]);
      expect(fields(facts({ validationSplit: 0.9 }))).toEqual([]);
      expect(checkTrainingInput(facts({ validationSplit: -0.1 }))).toEqual([
        {
          field: 'validationSplit',
          message: 'validationSplit must be between 0 and 0.9, got -0.1',
        },
      ]);
      expect(fields(facts({ validationSplit: NaN }))).toEqual(['validationSplit']);
    });

    it(`needs a dataset of at least ${MIN_TRAIN_ROWS} rows`, () => {
      expect(fields(facts({ rowCount: MIN_TRAIN_ROWS, validationSplit: 0 }))).toEqual([]);
      expect(checkTrainingInput(facts({ rowCount: 1, validationSplit: 0 }))).toEqual([
        {
          field: 'dataset',
          message: 'the dataset has 1 row(s); training needs at least 2: upload more rows',
        },
      ]);
    });

    it(`needs exactly ${MIN_TRAIN_ROWS} training rows after the split, counted as the splitter counts`, () => {
      // 4 rows at 0.5: 2 train (enough); 3 rows at 0.5: round(1.5) = 2 held out, 1 left.
      expect(fields(facts({ rowCount: 4, validationSplit: 0.5 }))).toEqual([]);
      expect(checkTrainingInput(facts({ rowCount: 3, validationSplit: 0.5 }))).toEqual([
        {
          field: 'validationSplit',
          message:
            'validationSplit 0.5 leaves 1 of 3 rows for training; at least 2 are needed: lower validationSplit or upload more rows',
        },
      ]);
    });

    it('counts validation rows exactly as trainValidationSplit takes them', () => {
      for (const [rows, fraction] of [
        [3, 0.5],
        [5, 0.3],
        [7, 0.9],
        [1000, 0.2],
        [11, 0.05],
      ]) {
        expect(trainValidationSplit(rows, fraction, 1).validation.length).toBe(
          validationRowCount(rows, fraction),
        );
      }
    });
  });
});

describe('describeTrainingInputProblems', () => {
  it('says the first problem and how many more there are', () => {
    const problems = [
      { field: 'target', message: 'column y is wrong' },
      { field: 'features[0]', message: 'column x is wrong' },
    ];
    expect(describeTrainingInputProblems(problems.slice(0, 1))).toBe(
      'The dataset does not fit this training job: column y is wrong.',
    );
    expect(describeTrainingInputProblems(problems)).toBe(
      'The dataset does not fit this training job: column y is wrong (and 1 more problem(s)).',
    );
  });
});
