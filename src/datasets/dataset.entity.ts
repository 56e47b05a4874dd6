import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ColumnSummary } from './column-stats';

@Entity('datasets')
export class Dataset {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ name: 'row_count', type: 'integer' })
  rowCount: number;

  @Column({ type: 'simple-json' })
  columns: ColumnSummary[];

  /** sha256 of the canonical columnar encoding: equal for equal tables, whatever the upload format. */
  @Column({ type: 'varchar', length: 64 })
  checksum: string;

  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
