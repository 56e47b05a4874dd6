// The API's shapes as the console reads them (the OpenAPI document at /docs-json is the reference).

export interface Model {
  name: string;
  description: string | null;
  tags: Record<string, string>;
  latestVersion: number | null;
  aliases: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

export interface SchemaField {
  name: string;
  type: string;
  shape?: number[];
}

export interface ColumnProfile {
  kind: 'number' | 'string';
  name: string;
  count: number;
  missing: number;
  edges?: number[];
  counts?: number[];
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  categories?: Record<string, number>;
}

export interface ModelVersion {
  model: string;
  version: number;
  status: 'ready' | 'archived';
  algorithm: string;
  format: string;
  inputSchema: SchemaField[];
  outputSchema: SchemaField[];
  hyperparameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
  lossHistory?: number[];
  lossPoints?: number;
  finalLoss?: number | null;
  dataset: { id: string; name: string | null; checksum: string } | null;
  trainingJob: string | null;
  createdBy: string | null;
  aliases: string[];
  checksum: string;
  sizeBytes: number;
  description: string | null;
  tags: Record<string, string>;
  serving?: { classes?: (string | number)[]; features?: string[] };
  reference?: { rows: number; features: ColumnProfile[]; predictions: ColumnProfile | null } | null;
  createdAt: string;
}

export interface Alias {
  model: string;
  alias: string;
  version: number;
  protected: boolean;
  canary: { version: number; weight: number } | null;
  shadow: { version: number; fraction: number } | null;
  updatedAt: string;
}

export interface ModelEvent {
  id: number;
  action: string;
  alias: string | null;
  fromVersion: number | null;
  toVersion: number | null;
  actor: string | null;
  createdAt: string;
}

export interface Dataset {
  id: string;
  name: string;
  rowCount: number;
  columns: { name: string; type: 'number' | 'string' }[];
  checksum: string;
  sizeBytes?: number;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: 'admin' | 'trainer' | 'predictor' | 'viewer';
  prefix: string;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
}
