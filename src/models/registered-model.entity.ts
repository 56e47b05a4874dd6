import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import type { MonitoringSettings } from '../monitoring/monitoring-settings';

@Entity('registered_models')
@Unique('uq_registered_models_name', ['name'])
@Index('idx_registered_models_updated', ['updatedAt'])
export class RegisteredModel {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'simple-json' })
  tags: Record<string, string>;

  /** The last version number handed out; versions are never reused, even after a deletion. */
  @Column({ name: 'last_version', type: 'integer', default: 0 })
  lastVersion: number;

  /** How its predictions are logged; null: DEFAULT_MONITORING. */
  @Column({ type: 'simple-json', nullable: true })
  monitoring: MonitoringSettings | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
