import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ObjectStorage } from './object-storage';

/**
 * Objects as rows of `stored_objects` (bytea on PostgreSQL, blob on SQLite), in plain SQL both
 * drivers accept: binary columns have no driver-neutral TypeORM entity type.
 */
@Injectable()
export class DatabaseObjectStorage implements ObjectStorage {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  async put(key: string, content: Buffer): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO stored_objects (object_key, content, size_bytes, created_at)
       VALUES (${this.params(4)})
       ON CONFLICT (object_key) DO UPDATE SET
         content = excluded.content, size_bytes = excluded.size_bytes, created_at = excluded.created_at`,
      [key, content, content.length, new Date().toISOString()],
    );
  }

  async get(key: string): Promise<Buffer | null> {
    const rows: { content: Buffer }[] = await this.dataSource.query(
      `SELECT content FROM stored_objects WHERE object_key = ${this.params(1)}`,
      [key],
    );
    return rows.length > 0 ? Buffer.from(rows[0].content) : null;
  }

  async delete(key: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM stored_objects WHERE object_key = ${this.params(1)}`, [
      key,
    ]);
  }

  /** `$1, $2` on PostgreSQL, `?, ?` on SQLite. */
  private params(count: number): string {
    return Array.from({ length: count }, (_, i) => (this.postgres ? `$${i + 1}` : '?')).join(', ');
  }
}
