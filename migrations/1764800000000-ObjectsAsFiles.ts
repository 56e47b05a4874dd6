import { readFile, utimes } from 'node:fs/promises';
import { MigrationInterface, QueryRunner } from 'typeorm';
import type { ObjectStoreConfig } from '../src/config/app.config';
import { FileObjectStorage } from '../src/storage/file-object-storage';

/**
 * Objects move to the store OBJECT_STORE names. With the file store (the default on SQLite) each
 * row of `stored_objects` (dataset contents, artifacts, reference samples) becomes the file of its
 * key under DATA_DIR/objects, byte for byte, with its `created_at` as the file's time, and the row
 * is deleted in the migration's transaction once its file is durable: a crash part-way leaves
 * rows still to move and files that the next attempt writes again. With the database store
 * nothing moves. No table changes: the database store keeps using `stored_objects`.
 *
 * `down` copies every object file back into `stored_objects` and leaves the files: deleting them
 * before the transaction commits could lose the only copy, and an `up` writes them again.
 *
 * TypeORM makes a migration with `new` and no arguments, so the store arrives through a subclass:
 * buildDataSourceOptions lists `ObjectsAsFiles1764800000000.to(config.objectStore)` in place of
 * this class. This class alone, as a DataSource opened with nothing but a database lists it (tests,
 * tools), moves nothing.
 */
export class ObjectsAsFiles1764800000000 implements MigrationInterface {
  name = 'ObjectsAsFiles1764800000000';
  protected readonly store: ObjectStoreConfig = { kind: 'database' };

  static to(store: ObjectStoreConfig): typeof ObjectsAsFiles1764800000000 {
    const configured = class extends ObjectsAsFiles1764800000000 {
      protected override readonly store = store;
    };
    Object.defineProperty(configured, 'name', { value: ObjectsAsFiles1764800000000.name });
    return configured;
  }

  public async up(queryRunner: QueryRunner): Promise<void> {
    if (this.store.kind !== 'file') return;
    const files = new FileObjectStorage(this.store.root);
    const param = placeholder(queryRunner);
    const keys: { object_key: string; created_at: unknown }[] = await queryRunner.query(
      'SELECT object_key, created_at FROM stored_objects ORDER BY object_key',
    );
    // One object at a time: a dataset's contents can be hundreds of megabytes.
    for (const { object_key: key, created_at: createdAt } of keys) {
      const [row]: { content: Buffer }[] = await queryRunner.query(
        `SELECT content FROM stored_objects WHERE object_key = ${param(1)}`,
        [key],
      );
      await files.put(key, Buffer.from(row.content));
      const created = new Date(createdAt as string | Date);
      if (!Number.isNaN(created.getTime())) await utimes(files.pathOf(key), created, created);
      await queryRunner.query(`DELETE FROM stored_objects WHERE object_key = ${param(1)}`, [key]);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    if (this.store.kind !== 'file') return;
    const files = new FileObjectStorage(this.store.root);
    const param = placeholder(queryRunner);
    const { objects } = await files.list();
    objects.sort((a, b) => (a.key < b.key ? -1 : 1));
    for (const { key, file, modifiedMs } of objects) {
      const content = await readFile(file);
      await queryRunner.query(
        `INSERT INTO stored_objects (object_key, content, size_bytes, created_at)
         VALUES (${param(1)}, ${param(2)}, ${param(3)}, ${param(4)})
         ON CONFLICT (object_key) DO UPDATE SET
           content = excluded.content, size_bytes = excluded.size_bytes, created_at = excluded.created_at`,
        [key, content, content.length, new Date(modifiedMs).toISOString()],
      );
    }
  }
}

/** `$n` on PostgreSQL, `?` on SQLite. */
function placeholder(queryRunner: QueryRunner): (n: number) => string {
  const postgres = queryRunner.connection.driver.options.type === 'postgres';
  return (n) => (postgres ? `$${n}` : '?');
}
