import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Which protocol a logged request came in by. */
export type PredictionRoute = 'v1' | 'v2';

/**
 * One sampled prediction request and its answer. Each replica writes its own entries, in batches,
 * off the request path. `inputs` and `outputs` are JSON text, bounded: a large tensor is kept as a
 * digest (shape, datatype, sha256, its first values), never whole.
 */
@Entity('prediction_log')
@Index('idx_prediction_log_model_time', ['modelId', 'createdAt'])
@Index('idx_prediction_log_version_time', ['modelId', 'version', 'createdAt'])
export class PredictionLogEntry {
  // bigint on PostgreSQL: the driver returns it as a string.
  @PrimaryGeneratedColumn('increment')
  id: string | number;

  @Column({ name: 'model_id', type: 'varchar', length: 36 })
  modelId: string;

  @Column({ type: 'integer' })
  version: number;

  /** The alias the request was served through (`production` by default), or null for ?version=. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  alias: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  @Column({ type: 'varchar', length: 8 })
  route: PredictionRoute;

  /** The id of the API key that asked (never the key). */
  @Column({ name: 'api_key_id', type: 'varchar', length: 36, nullable: true })
  apiKeyId: string | null;

  @Column({ type: 'integer' })
  rows: number;

  @Column({ name: 'latency_ms', type: 'double precision' })
  latencyMs: number;

  @Column({ type: 'text' })
  inputs: string;

  @Column({ type: 'text' })
  outputs: string;

  /** When the answer was sent; set by the service, not the database, so a batch keeps its times. */
  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
