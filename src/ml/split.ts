import { Random } from './random';
import { validationRowCount } from './training-rules';

/**
 * Seeded Fisher–Yates shuffle of the row indices; the first
 * validationRowCount(rowCount, validationFraction) go to validation. Both index lists are returned in
 * ascending order so gathers walk memory forwards.
 * Same inputs, same split.
 */
export function trainValidationSplit(
  rowCount: number,
  validationFraction: number,
  seed: number,
): { train: Uint32Array; validation: Uint32Array } {
  checkArguments(rowCount, validationFraction);
  const validationSize = validationRowCount(rowCount, validationFraction);
  if (validationSize === 0) {
    // Every row trains whatever the shuffle; skipping it saves a pass over a million rows.
    const train = new Uint32Array(rowCount);
    for (let i = 0; i < rowCount; i++) train[i] = i;
    return { train, validation: new Uint32Array(0) };
  }
  const order = shuffledRows(rowCount, seed);
  const inValidation = new Uint8Array(rowCount);
  for (let i = 0; i < validationSize; i++) {
    inValidation[order[i]] = 1;
  }
  return collect(inValidation, rowCount - validationSize, validationSize);
}

/**
 * Like trainValidationSplit, but each class keeps its share: validationRowCount(rowCount, fraction)
 * validation rows apportioned to the classes by largest remainder (ties: the lower class index),
 * and never a class's last row, so every class is trained on. Walking the same seeded shuffle,
 * a row goes to validation while its class's quota lasts.
 * labels: class index per row, 0 <= label < classCount.
 */
export function stratifiedSplit(
  labels: Int32Array,
  classCount: number,
  validationFraction: number,
  seed: number,
): { train: Uint32Array; validation: Uint32Array } {
  const rowCount = labels.length;
  checkArguments(rowCount, validationFraction);
  const counts = new Float64Array(classCount);
  for (let i = 0; i < rowCount; i++) {
    counts[labels[i]]++;
  }
  const quotas = new Float64Array(classCount);
  const remainders: number[] = [];
  let assigned = 0;
  for (let c = 0; c < classCount; c++) {
    const share = counts[c] * validationFraction;
    quotas[c] = Math.floor(share);
    assigned += quotas[c];
    remainders.push(c);
  }
  remainders.sort(
    (a, b) =>
      counts[b] * validationFraction - quotas[b] - (counts[a] * validationFraction - quotas[a]) ||
      a - b,
  );
  const target = validationRowCount(rowCount, validationFraction);
  for (let i = 0; assigned < target && i < classCount; i++, assigned++) {
    quotas[remainders[i]]++;
  }
  let validationSize = 0;
  for (let c = 0; c < classCount; c++) {
    quotas[c] = Math.min(quotas[c], Math.max(counts[c] - 1, 0));
    validationSize += quotas[c];
  }
  const order = shuffledRows(rowCount, seed);
  const inValidation = new Uint8Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const row = order[i];
    if (quotas[labels[row]] > 0) {
      quotas[labels[row]]--;
      inValidation[row] = 1;
    }
  }
  return collect(inValidation, rowCount - validationSize, validationSize);
}

function checkArguments(rowCount: number, validationFraction: number): void {
  if (!Number.isInteger(rowCount) || rowCount < 0 || rowCount > 0xffffffff) {
    throw new RangeError(`rowCount must be a non-negative integer, got ${rowCount}.`);
  }
  if (!(validationFraction >= 0 && validationFraction <= 1)) {
    throw new RangeError(`validationFraction must be between 0 and 1, got ${validationFraction}.`);
  }
}

function shuffledRows(rowCount: number, seed: number): Uint32Array {
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
  return order;
}

/** Both sides in row order, by marking rather than sorting the shuffled halves. */
function collect(
  inValidation: Uint8Array,
  trainSize: number,
  validationSize: number,
): { train: Uint32Array; validation: Uint32Array } {
  const train = new Uint32Array(trainSize);
  const validation = new Uint32Array(validationSize);
  for (let row = 0, t = 0, v = 0; row < inValidation.length; row++) {
    if (inValidation[row]) {
      validation[v++] = row;
    } else {
      train[t++] = row;
    }
  }
  return { train, validation };
}
