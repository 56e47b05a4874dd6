import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Running beyond one process: dataset contents move to `stored_objects` (the object storage every
 * replica and worker reads), and training jobs count the workers that started them, which is also
 * the claim a worker's writes are checked against.
 */
export class RunningAtScale1764300000000 implements MigrationInterface {
  name = 'RunningAtScale1764300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.createTable(
      new Table({
        name: 'stored_objects',
        columns: [
          { name: 'object_key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'content', type: postgres ? 'bytea' : 'blob' },
          { name: 'size_bytes', type: 'bigint' },
          { name: 'created_at', type: postgres ? 'timestamp' : 'datetime' },
        ],
      }),
    );
    await queryRunner.query(
      `INSERT INTO stored_objects (object_key, content, size_bytes, created_at)
       SELECT 'datasets/' || id, content, size_bytes, created_at FROM datasets`,
    );
    await queryRunner.dropColumn('datasets', 'content');
    await queryRunner.addColumn(
      'training_jobs',
      new TableColumn({ name: 'attempts', type: 'integer', default: 0 }),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.dropColumn('training_jobs', 'attempts');
    await queryRunner.addColumn(
      'datasets',
      new TableColumn({ name: 'content', type: postgres ? 'bytea' : 'blob', isNullable: true }),
    );
    await queryRunner.query(
      `UPDATE datasets SET content = (SELECT content FROM stored_objects
         WHERE stored_objects.object_key = 'datasets/' || datasets.id)`,
    );
    await queryRunner.dropTable('stored_objects');
  }
}
