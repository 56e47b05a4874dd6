import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { RegisteredModel } from './registered-model.entity';

export const MODEL_EVENT_ACTIONS = [
  'model_created',
  'version_created',
  'version_archived',
  'version_restored',
  'version_deleted',
  'alias_set',
  'alias_deleted',
  // An alias's rollout: a canary takes a share of its traffic, a shadow mirrors it.
  'canary_set',
  'canary_promoted',
  'canary_aborted',
  'shadow_set',
  'shadow_removed',
  // PUT …/versions/{version}/reference: drift compares with another dataset from now on.
  'reference_set',
  // PUT …/monitoring: the prediction log's sample rate or retention.
  'monitoring_set',
] as const;
export type ModelEventAction = (typeof MODEL_EVENT_ACTIONS)[number];

/** The registry's audit trail: one row per change; the id orders events even within one millisecond. */
@Entity('model_events')
@Index('idx_model_events_model_id', ['modelId', 'id'])
export class ModelEvent {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ name: 'model_id', type: 'varchar', length: 36 })
  modelId: string;

  @ManyToOne(() => RegisteredModel, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id' })
  model?: RegisteredModel;

  @Column({ type: 'varchar', length: 32 })
  action: ModelEventAction;

  @Column({ type: 'varchar', length: 128, nullable: true })
  alias: string | null;

  @Column({ name: 'from_version', type: 'integer', nullable: true })
  fromVersion: number | null;

  @Column({ name: 'to_version', type: 'integer', nullable: true })
  toVersion: number | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  actor: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
