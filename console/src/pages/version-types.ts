// Shapes the version page reads beyond types.ts: drift (src/drift/dto/drift.dto.ts) and the
// answers of the v1 predict and V2 infer routes (src/prediction/dto).

export type DriftStatus = 'ok' | 'warning' | 'drift';

export interface FeatureDrift {
  name: string;
  kind: 'number' | 'string';
  status: DriftStatus;
  rated: boolean;
  sampleSize: number;
  referenceSize: number;
  psi: number | null;
  ks?: { statistic: number; pValue: number };
  wasserstein?: number;
  jensenShannon?: number;
  missingRate: { reference: number; live: number };
  /** Numbers: the reference's interior edges and both sides' shares per bin. */
  bins?: { edges: number[]; reference: number[]; live: number[] };
  /** Strings: both sides' shares per category. */
  categories?: { name: string; reference: number; live: number }[];
}

export interface DriftReport {
  model: string;
  version: number;
  from: string;
  to: string;
  sampleSize: number;
  skippedRequests: number;
  referenceSize: number;
  status: DriftStatus;
  features: FeatureDrift[];
  predictions: FeatureDrift | null;
}

export interface PredictAnswer {
  model: string;
  version: number;
  predictions: (number | string)[];
  probabilities?: number[][];
  classes?: (number | string)[];
}

export interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface InferAnswer {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: Tensor[];
}
