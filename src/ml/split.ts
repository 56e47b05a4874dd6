import { Random } from './random';

/**
 * Seeded Fisher–Yates shuffle of the row indices; the first
 * Math.round(rowCount * validationFraction) go to validation. Both index lists are returned in
 * ascending order so gathers walk memory forwards.
 * Same inputs, same split.
 */
export function trainValidationSplit(
  rowCount: number,
  validationFraction: number,
  seed: number,
): { train: Uint32Array; validation: Uint32Array } {
  if (!Number.isInteger(rowCount) || rowCount < 0 || rowCount > 0xffffffff) {
    throw new RangeError(`rowCount must be a non-negative integer, got ${rowCount}.`);
  }
  if (!(validationFraction >= 0 && validationFraction <= 1)) {
    throw new RangeError(`validationFraction must be between 0 and 1, got ${validationFraction}.`);
  }
  const order = new Uint32Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    order[i] = i;
  }
  const random = new Random(seed);
  for (let i = rowCount - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  const validationSize = Math.round(rowCount * validationFraction);
  // Collect both sides in row order by marking, rather than sorting the shuffled halves.
  const inValidation = new Uint8Array(rowCount);
  for (let i = 0; i < validationSize; i++) {
    inValidation[order[i]] = 1;
  }
  const train = new Uint32Array(rowCount - validationSize);
  const validation = new Uint32Array(validationSize);
  for (let row = 0, t = 0, v = 0; row < rowCount; row++) {
    if (inValidation[row]) {
      validation[v++] = row;
    } else {
      train[t++] = row;
    }
  }
  return { train, validation };
}
