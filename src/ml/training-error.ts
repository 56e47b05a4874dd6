/** A training failure whose message is meant for the end user: bad input, divergence, cancel. */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}
