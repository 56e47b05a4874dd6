import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  Unique,
} from 'typeorm';
import type { JsonObject } from '../common/json';
import type { ReferenceProfile } from '../ml/reference-profile';
import { RegisteredModel } from './registered-model.entity';

export type VersionStatus = 'ready' | 'archived';

export interface SchemaEntry {
  name: string;
  type: string;
  /** ONNX tensors: -1 for a dimension the graph leaves open. */
  shape?: number[];
}

/** How an ONNX version is served (set when it is registered). */
export interface ServingOptions {
  /** Dynamic batching; absent: every request runs on its own. */
  batching?: { maxBatchSize: number; maxQueueDelayMicros: number };
  /** The labels of a classifier's probability columns, in column order (v1 `classes`). */
  classes?: (string | number)[];
  /** The names of a tabular input's columns, so v1 instances may be objects. */
  features?: string[];
}

@Entity('model_versions')
@Unique('uq_model_versions_model_version', ['modelId', 'version'])
export class ModelVersion {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'model_id', type: 'varchar', length: 36 })
  modelId: string;

  @ManyToOne(() => RegisteredModel, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id' })
  model?: RegisteredModel;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'varchar', length: 16 })
  status: VersionStatus;

  @Column({ type: 'varchar', length: 64 })
  algorithm: string;

  @Column({ type: 'varchar', length: 64 })
  format: string;

  /** Features (`type` number or string); for ONNX versions, tensors (`type` a datatype, and a shape). */
  @Column({ name: 'input_schema', type: 'simple-json' })
  inputSchema: SchemaEntry[];

  @Column({ name: 'output_schema', type: 'simple-json' })
  outputSchema: SchemaEntry[];

  @Column({ type: 'simple-json' })
  hyperparameters: JsonObject;

  @Column({ type: 'simple-json' })
  metrics: { [split: string]: JsonObject | null };

  @Column({ name: 'loss_history', type: 'simple-json' })
  lossHistory: number[];

  @Column({ name: 'dataset_id', type: 'varchar', length: 36, nullable: true })
  datasetId: string | null;

  /** The dataset's name when the version was trained (datasets can be deleted later). */
  @Column({ name: 'dataset_name', type: 'varchar', length: 128, nullable: true })
  datasetName: string | null;

  @Column({ name: 'dataset_checksum', type: 'varchar', length: 64, nullable: true })
  datasetChecksum: string | null;

  @Column({ name: 'training_job_id', type: 'varchar', length: 36, nullable: true })
  trainingJobId: string | null;

  /** `training-job:<id>` or `import`, followed by ` by <key name>` once requests are authenticated. */
  @Column({ name: 'created_by', type: 'varchar', length: 160, nullable: true })
  createdBy: string | null;

  /** sha256 of the artifact (JSON text, kept in object storage under `artifacts/<id>`). */
  @Column({ type: 'varchar', length: 64 })
  checksum: string;

  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes: number;

  @Column({ type: 'simple-json', nullable: true })
  serving: ServingOptions | null;

  /** What drift compares live inputs with: the training split's profile (null until one exists). */
  @Column({ type: 'simple-json', nullable: true })
  reference: ReferenceProfile | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'simple-json' })
  tags: Record<string, string>;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
