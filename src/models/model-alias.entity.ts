import { Column, JoinColumn, ManyToOne, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { RegisteredModel } from './registered-model.entity';

/** `production`, `staging`, …: a movable name for one version of a model. */
@Entity('model_aliases')
export class ModelAlias {
  @PrimaryColumn({ name: 'model_id', type: 'varchar', length: 36 })
  modelId: string;

  @ManyToOne(() => RegisteredModel, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id' })
  model?: RegisteredModel;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  alias: string;

  @Column({ type: 'integer' })
  version: number;

  /** Only an admin may move or delete a protected alias (`production`, typically). */
  @Column({ type: 'boolean', default: false })
  protected: boolean;

  /** A canary: this version answers `canaryWeight` (0..1) of the alias's requests. */
  @Column({ name: 'canary_version', type: 'integer', nullable: true })
  canaryVersion: number | null;

  @Column({ name: 'canary_weight', type: 'double precision', nullable: true })
  canaryWeight: number | null;

  /** A shadow: this version also runs on `shadowFraction` of the requests; its answers are compared, never sent. */
  @Column({ name: 'shadow_version', type: 'integer', nullable: true })
  shadowVersion: number | null;

  @Column({ name: 'shadow_fraction', type: 'double precision', nullable: true })
  shadowFraction: number | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
