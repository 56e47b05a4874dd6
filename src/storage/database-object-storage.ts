import { Injectable } from '@nestjs/common';
import { readFile, rm } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import { checkObjectKey, type ObjectStorage, type StoredObject } from './object-storage';

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
    checkObjectKey(key);
    await this.dataSource.query(
      `INSERT INTO stored_objects (object_key, content, size_bytes, created_at)
       VALUES (${this.params(4)})
       ON CONFLICT (object_key) DO UPDATE SET
         content = excluded.content, size_bytes = excluded.size_bytes, created_at = excluded.created_at`,
      [key, content, content.length, new Date().toISOString()],
    );
  }

  /** A column value is one buffer on both drivers, so the file is read whole. */
  async putFile(key: string, source: string): Promise<void> {
    await this.put(key, await readFile(source));
    await rm(source, { force: true });
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

  async *objects(): AsyncIterable<StoredObject> {
    // `created_at` is a timestamp without time zone holding UTC: read as epoch milliseconds, not
    // through the driver, which would take it for local time.
    const modified = this.postgres
      ? 'EXTRACT(EPOCH FROM created_at) * 1000'
      : '(julianday(created_at) - 2440587.5) * 86400000';
    const rows: { object_key: string; size_bytes: string | number; modified_ms: unknown }[] =
      await this.dataSource.query(
        `SELECT object_key, size_bytes, ${modified} AS modified_ms FROM stored_objects`,
      );
    for (const row of rows) {
      yield {
        key: row.object_key,
        size: Number(row.size_bytes),
        modifiedMs: Number(row.modified_ms),
      };
    }
  }

  /** `$1, $2` on PostgreSQL, `?, ?` on SQLite. */
  private params(count: number): string {
    return Array.from({ length: count }, (_, i) => (this.postgres ? `$${i + 1}` : '?')).join(', ');
  }
}
