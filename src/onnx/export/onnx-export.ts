/**
 * A ModelDock artifact (`modeldock/v1` or `modeldock/v2`) as an ONNX model that predicts what
 * compilePredictor predicts, in DOUBLE, with standard `ai.onnx` operators only (no `ai.onnx.ml`,
 * no custom ops), so that Triton's or KServe's onnxruntime, or any runtime, can serve it.
 *
 * Inputs (N is the dim_param "N", the batch size):
 * - Every feature a number: ONE input `input`, DOUBLE `[N, F]`, one column per feature in the
 *   artifact's input order: the tabular layout Triton/KServe clients send.
 * - Any feature a string: one input per feature, named exactly as the feature (nothing is
 *   sanitised), `[N, 1]`, DOUBLE for a number feature, STRING for a string feature.
 * The metadata prop `modeldock.inputs` holds the features in order (JSON `[{name, type}]`).
 *
 * Missing values (metadata prop `modeldock.missing`):
 * - Number: NaN. A v2 model imputes it with the feature's `impute` (IsNaN + Where), as our
 *   predictor does. A v1 model has no imputation: the NaN goes through and the prediction is NaN
 *   (ModelDock refuses missing values for v1 models before predicting).
 * - String: the empty string "" (ONNX string tensors have no null; ModelDock's datasets read an
 *   empty cell as missing too) is imputed with the feature's `impute` category. If "" is itself
 *   one of the feature's categories (possible only in a hand-written artifact) it is that category,
 *   as in our predictor, and the feature has no missing marker.
 * - A string that is not a category encodes as all zeros (our predictor's unknown category).
 *
 * Outputs (the names ModelDock's V2 inference endpoint uses):
 * - Linear and ridge regression: `predict`, DOUBLE `[N]`.
 * - Logistic regression: `predict_proba`, DOUBLE `[N, C]`, the classes in the artifact's order
 *   (metadata prop `modeldock.classes`), and `predict`, `[N]`, the most probable class (ties: the
 *   first in class order, ArgMax with select_last_index = 0), INT64 when every class is a safe
 *   integer, DOUBLE when the classes are other numbers, STRING when they are strings.
 *
 * Versions: IR 8 with opset 17 for number-only models. A model with a string input needs
 * `Equal` on strings, which the standard defines only from opset 19, so it is written as IR 9 with
 * opset 19 (onnxruntime 1.15 or later).
 *
 * The arithmetic follows compilePredictor: v2 subtracts the mean and takes the dot product with
 * weights divided by the scale, Σ (x − mean)·(w / scale), never a Div node (see encodeNumbers);
 * v1 folds the whole standardisation into raw-space weights and bias as our v1 predictor does.
 * The binary model's probabilities are softmax([z·0, z]), which is our predictor's two-sided
 * sigmoid (and, like it, NaN when the score overflowed).
 */
import { onnx } from 'onnx-proto';
import { ARTIFACT_FORMAT_V1, FeatureSpec, validateArtifact } from '../../ml';

/** The artifact type (ml/index exports validateArtifact, whose result carries it). */
type ModelArtifact = NonNullable<ReturnType<typeof validateArtifact>['artifact']>;
type V1Artifact = Extract<ModelArtifact, { format: typeof ARTIFACT_FORMAT_V1 }>;
type V2Artifact = Exclude<ModelArtifact, V1Artifact>;
type NumberPreprocessing = { impute: number; mean: number; scale: number };
type StringPreprocessing = { impute: string; categories: string[] };

export interface OnnxExportOptions {
  /** The registry's model name, written to the graph name and `modeldock.model`. */
  modelName: string;
  /** The model version, written to ModelProto.model_version and `modeldock.version`. */
  version: number;
}

/** The single input of a number-only model. */
export const ONNX_MATRIX_INPUT = 'input';
export const ONNX_PREDICT_OUTPUT = 'predict';
export const ONNX_PROBA_OUTPUT = 'predict_proba';
/** The string input value that means "missing". */
export const ONNX_MISSING_STRING = '';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;
const BATCH = 'N';

export function exportOnnx(artifact: ModelArtifact, options: OnnxExportOptions): Uint8Array {
  const g = new GraphBuilder();
  const matrix = artifact.inputs.every((input) => input.type === 'number');
  checkNames(artifact, matrix);
  const inputs = declareInputs(g, artifact.inputs, matrix);
  if (artifact.format === ARTIFACT_FORMAT_V1) {
    const { weights, bias } = foldV1(artifact);
    regressionOutput(g, linearScores(g, inputs[0], [weights], [bias]));
  } else {
    const encoded = encode(g, artifact, inputs, matrix);
    const logistic = artifact.algorithm === 'logistic-regression';
    const rows = logistic ? artifact.weights : [artifact.coefficients];
    const weights = foldScales(rows, artifact.preprocessing);
    const scores = linearScores(
      g,
      encoded,
      weights,
      logistic ? artifact.intercepts : [artifact.intercept],
    );
    if (logistic) {
      classificationOutputs(g, scores, artifact.classes);
    } else {
      regressionOutput(g, scores);
    }
  }
  const strings = !matrix;
  const model: onnx.IModelProto = {
    irVersion: strings ? 9 : 8,
    opsetImport: [{ domain: '', version: strings ? 19 : 17 }],
    producerName: 'modeldock',
    modelVersion: options.version,
    docString:
      `ModelDock ${artifact.algorithm} "${options.modelName}" version ${options.version} ` +
      `(${artifact.format}); see metadata_props modeldock.*.`,
    graph: {
      name: options.modelName,
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs,
      output: g.outputs,
    },
    metadataProps: metadata(artifact, options, matrix),
  };
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------------------------------------
// Stages

/** The graph inputs; returns, per input, the name of its value (one name in the matrix case). */
function declareInputs(g: GraphBuilder, features: FeatureSpec[], matrix: boolean): string[] {
  if (matrix) {
    return [g.input(ONNX_MATRIX_INPUT, DataType.DOUBLE, [BATCH, features.length])];
  }
  return features.map(({ name, type }) =>
    g.input(name, type === 'number' ? DataType.DOUBLE : DataType.STRING, [BATCH, 1]),
  );
}

/** The encoded rows [N, D]: every input's encoding side by side, in input order. */
function encode(g: GraphBuilder, artifact: V2Artifact, inputs: string[], matrix: boolean): string {
  if (matrix) {
    return encodeNumbers(g, inputs[0], artifact.preprocessing as NumberPreprocessing[], 'input');
  }
  const columns = artifact.preprocessing.map((p, i) =>
    'categories' in p
      ? encodeString(g, inputs[i], p, `input${i}`)
      : encodeNumbers(g, inputs[i], [p], `input${i}`),
  );
  return columns.length === 1 ? columns[0] : g.op('Concat', columns, 'encoded', { axis: 1 });
}

/**
 * [N, k] numbers → impute NaN (Where(IsNaN(x), impute, x)) → x − mean. The division by the scale
 * is folded into the weights (foldScales), as in our predictor: a Div by a one-element constant
 * before MatMul is what onnxruntime's MatMulScaleFusion turns into FusedMatMul's alpha, a float32
 * attribute, which would cost a double model 8 of its digits.
 */
function encodeNumbers(
  g: GraphBuilder,
  x: string,
  preprocessing: NumberPreprocessing[],
  label: string,
): string {
  const row = (values: number[]) => [1, values.length];
  const impute = preprocessing.map((p) => p.impute);
  const mean = preprocessing.map((p) => p.mean);
  const imputeName = g.constant(`${label}/impute`, DataType.DOUBLE, row(impute), impute);
  const missing = g.op('IsNaN', [x], `${label}/missing`);
  const imputed = g.op('Where', [missing, imputeName, x], `${label}/imputed`);
  const meanName = g.constant(`${label}/mean`, DataType.DOUBLE, row(mean), mean);
  return g.op('Sub', [imputed, meanName], `${label}/centred`);
}

/**
 * [N, 1] strings → "" becomes the impute category → Equal against the [1, K] categories, cast to
 * DOUBLE: the [N, K] one-hot, all zeros for a string that is not a category.
 */
function encodeString(g: GraphBuilder, x: string, p: StringPreprocessing, label: string): string {
  let value = x;
  if (!p.categories.includes(ONNX_MISSING_STRING)) {
    const empty = g.constant(`${label}/missing_marker`, DataType.STRING, [], [ONNX_MISSING_STRING]);
    const missing = g.op('Equal', [x, empty], `${label}/missing`);
    const impute = g.constant(`${label}/impute`, DataType.STRING, [], [p.impute]);
    value = g.op('Where', [missing, impute, x], `${label}/imputed`);
  }
  const categories = g.constant(
    `${label}/categories`,
    DataType.STRING,
    [1, p.categories.length],
    p.categories,
  );
  const matches = g.op('Equal', [value, categories], `${label}/matches`);
  return g.op('Cast', [matches], `${label}/one_hot`, { to: DataType.DOUBLE });
}

/** [N, D] × W[D, K] + b[1, K] → [N, K] scores; `rows`: K rows of D weights, as in artifacts. */
function linearScores(g: GraphBuilder, x: string, rows: number[][], bias: number[]): string {
  const k = rows.length;
  const d = rows[0].length;
  const transposed: number[] = [];
  for (let j = 0; j < d; j++) {
    for (let c = 0; c < k; c++) transposed.push(rows[c][j]);
  }
  const w = g.constant('weights', DataType.DOUBLE, [d, k], transposed);
  const b = g.constant('bias', DataType.DOUBLE, [1, k], bias);
  return g.op('Add', [g.op('MatMul', [x, w], 'weighted'), b], 'scores');
}

/** [N, 1] scores → `predict` [N]. */
function regressionOutput(g: GraphBuilder, scores: string): void {
  const axes = g.constant('squeeze_axes', DataType.INT64, [1], [1]);
  g.op('Squeeze', [scores, axes], ONNX_PREDICT_OUTPUT, {}, true);
  g.outputs.push(valueInfo(ONNX_PREDICT_OUTPUT, DataType.DOUBLE, [BATCH]));
}

/**
 * Scores → `predict_proba` [N, C] (softmax; for 2 classes softmax of [z·0, z], our predictor's
 * sigmoid, NaN when z is not finite) → `predict` [N]: the classes gathered at the first maximum.
 */
function classificationOutputs(
  g: GraphBuilder,
  scores: string,
  classes: (string | number)[],
): void {
  let logits = scores;
  if (classes.length === 2) {
    const zero = g.constant('zero', DataType.DOUBLE, [], [0]);
    // z·0 is 0 for a finite score and NaN for ±Infinity, like our predictor's `overflow`.
    const other = g.op('Mul', [scores, zero], 'score_times_zero');
    logits = g.op('Concat', [other, scores], 'binary_logits', { axis: 1 });
  }
  const proba = g.op('Softmax', [logits], ONNX_PROBA_OUTPUT, { axis: 1 }, true);
  const best = g.op('ArgMax', [proba], 'best_class', {
    axis: 1,
    keepdims: 0,
    select_last_index: 0,
  });
  const labels = labelTensor(classes);
  const classNames = g.constant('classes', labels.type, [classes.length], labels.values);
  g.op('Gather', [classNames, best], ONNX_PREDICT_OUTPUT, { axis: 0 }, true);
  g.outputs.push(valueInfo(ONNX_PROBA_OUTPUT, DataType.DOUBLE, [BATCH, classes.length]));
  g.outputs.push(valueInfo(ONNX_PREDICT_OUTPUT, labels.type, [BATCH]));
}

function labelTensor(classes: (string | number)[]): {
  type: onnx.TensorProto.DataType;
  values: (string | number)[];
} {
  if (classes.some((c) => typeof c === 'string')) {
    return { type: DataType.STRING, values: classes.map(String) };
  }
  return {
    type: classes.every((c) => Number.isSafeInteger(c)) ? DataType.INT64 : DataType.DOUBLE,
    values: classes,
  };
}

/** Each row of weights with its number columns divided by their scale, as in our predictor. */
function foldScales(rows: number[][], preprocessing: V2Artifact['preprocessing']): number[][] {
  return rows.map((row) => {
    const folded = [...row];
    let column = 0;
    for (const p of preprocessing) {
      if ('categories' in p) {
        column += p.categories.length;
      } else {
        folded[column] /= p.scale;
        column++;
      }
    }
    return folded;
  });
}

/** v1 as our v1 predictor computes it: w = coef / scale, b = intercept − Σ w·mean. */
function foldV1(artifact: V1Artifact): { weights: number[]; bias: number } {
  const weights = [...artifact.coefficients];
  let bias = artifact.intercept;
  const standardize = artifact.preprocessing?.standardize;
  if (standardize) {
    weights.forEach((_, j) => {
      weights[j] /= standardize.scale[j];
      bias -= weights[j] * standardize.mean[j];
    });
  }
  return { weights, bias };
}

function metadata(
  artifact: ModelArtifact,
  options: OnnxExportOptions,
  matrix: boolean,
): onnx.IStringStringEntryProto[] {
  const props: Record<string, string> = {
    'modeldock.model': options.modelName,
    'modeldock.version': String(options.version),
    'modeldock.algorithm': artifact.algorithm,
    'modeldock.format': artifact.format,
    'modeldock.inputs': JSON.stringify(artifact.inputs.map(({ name, type }) => ({ name, type }))),
    'modeldock.input_layout': matrix ? 'matrix' : 'per-feature',
    'modeldock.missing': JSON.stringify(missingMarkers(artifact)),
    'modeldock.output': JSON.stringify({ name: artifact.output.name, type: artifact.output.type }),
  };
  if (artifact.algorithm === 'logistic-regression') {
    props['modeldock.classes'] = JSON.stringify(artifact.classes);
  }
  return Object.entries(props).map(([key, value]) => ({ key, value }));
}

/** Per feature, the value that means "missing": "NaN", "" or null (none: v1, or "" a category). */
function missingMarkers(artifact: ModelArtifact): Record<string, string | null> {
  const markers: Record<string, string | null> = {};
  artifact.inputs.forEach(({ name }, i) => {
    if (artifact.format === ARTIFACT_FORMAT_V1) {
      markers[name] = null;
      return;
    }
    const p = artifact.preprocessing[i];
    markers[name] = !('categories' in p)
      ? 'NaN'
      : p.categories.includes(ONNX_MISSING_STRING)
        ? null
        : ONNX_MISSING_STRING;
  });
  return markers;
}

/** Inputs and outputs share one namespace: a feature named like an output cannot be an input. */
function checkNames(artifact: ModelArtifact, matrix: boolean): void {
  if (matrix) return;
  const logistic = artifact.algorithm === 'logistic-regression';
  const outputs = new Set(
    logistic ? [ONNX_PREDICT_OUTPUT, ONNX_PROBA_OUTPUT] : [ONNX_PREDICT_OUTPUT],
  );
  const clash = artifact.inputs.find((input) => outputs.has(input.name));
  if (clash) {
    throw new Error(
      `Cannot export to ONNX: feature "${clash.name}" would be a graph input with the same name ` +
        `as the output "${clash.name}".`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Small builders, in the spirit of onnx.helper

/**
 * Collects nodes and initializers. Internal values get unique names that avoid the graph's input
 * and output names (feature names are free strings, so "weights" could be a feature).
 */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>([ONNX_PREDICT_OUTPUT, ONNX_PROBA_OUTPUT]);

  /** A graph input; returns its name. */
  input(name: string, type: onnx.TensorProto.DataType, dims: (number | string)[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A DOUBLE, INT64 or STRING initializer; returns its name. */
  constant(
    name: string,
    type: onnx.TensorProto.DataType,
    dims: number[],
    values: (number | string)[],
  ): string {
    const unique = this.fresh(name);
    this.initializers.push(initializer(unique, type, dims, values));
    return unique;
  }

  /** One node with one output; `exact` uses `output` as it is (a graph output). */
  op(
    opType: string,
    inputs: string[],
    output: string,
    attributes: Record<string, number> = {},
    exact = false,
  ): string {
    const name = exact ? output : this.fresh(output);
    this.nodes.push(node(opType, inputs, [name], attributes, name));
    return name;
  }

  private fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, number>,
  name: string,
): onnx.INodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(attributes).map(([key, i]) => ({
      name: key,
      type: AttributeType.INT,
      i,
    })),
  };
}

function initializer(
  name: string,
  type: onnx.TensorProto.DataType,
  dims: number[],
  values: (number | string)[],
): onnx.ITensorProto {
  const tensor: onnx.ITensorProto = { name, dataType: type, dims };
  if (type === DataType.STRING) {
    const utf8 = new TextEncoder();
    tensor.stringData = values.map((v) => utf8.encode(String(v)));
  } else if (type === DataType.INT64) {
    tensor.int64Data = values as number[];
  } else if (type === DataType.DOUBLE) {
    tensor.doubleData = values as number[];
  } else {
    throw new Error(`initializer: unsupported type ${type}`);
  }
  return tensor;
}

function valueInfo(
  name: string,
  type: onnx.TensorProto.DataType,
  dims: (number | string)[],
): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: {
          dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
        },
      },
    },
  };
}
