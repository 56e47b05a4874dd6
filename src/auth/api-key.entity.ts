import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Role } from './roles';

/** An API key: stored as a sha256 hash; the key itself is shown once, when it is created. */
@Entity('api_keys')
@Index('idx_api_keys_prefix', ['prefix'], { unique: true })
export class ApiKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: Role;

  /** The key's public start (`mdk_3f9a1c2b7d0e`): finds the key, shown in lists and logs. */
  @Column({ type: 'varchar', length: 32 })
  prefix: string;

  /** sha256 of the whole key, hex. */
  @Column({ type: 'varchar', length: 64 })
  hash: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true })
  createdBy: string | null;

  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'expires_at', type: Date, nullable: true })
  expiresAt: Date | null;

  /** Revoked keys stay for the audit trail; they never authenticate again. */
  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt: Date | null;
}
