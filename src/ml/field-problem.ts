/**
 * Something wrong with one named part of what the maths was given, in words a user can act on.
 * `field` locates it: a hyperparameter's name (`learningRate`), a training request field
 * (`target`, `features[2]`), or a JSON path into an artifact (`coefficients[2]`, `$` for the whole).
 * The service turns these into the field errors of a 400.
 */
export interface FieldProblem {
  field: string;
  message: string;
}
