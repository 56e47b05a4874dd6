import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/**
 * Datasets, training jobs and the registry (models, versions, aliases, events).
 * Written with TypeORM's schema API so the same migration can serve PostgreSQL later;
 * the two column types that differ between drivers are chosen below.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'timestamp' : 'datetime';
    const now = postgres ? 'now()' : "datetime('now')";
    const id = (name = 'id'): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: '36',
      isPrimary: name === 'id',
    });
    const createdAt: TableColumnOptions = { name: 'created_at', type: timestamp, default: now };
    const updatedAt: TableColumnOptions = { name: 'updated_at', type: timestamp, default: now };
    const json = (name: string, isNullable = false): TableColumnOptions => ({
      name,
      type: 'text',
      isNullable,
    });
    const modelForeignKey = {
      columnNames: ['model_id'],
      referencedTableName: 'registered_models',
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    };

    await queryRunner.createTable(
      new Table({
        name: 'datasets',
        columns: [
          id(),
          { name: 'name', type: 'varchar', length: '128' },
          { name: 'row_count', type: 'integer' },
          json('columns'),
          { name: 'checksum', type: 'varchar', length: '64' },
          { name: 'size_bytes', type: 'integer' },
          { name: 'content', type: postgres ? 'bytea' : 'blob' },
          createdAt,
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'training_jobs',
        columns: [
          id(),
          { name: 'model_name', type: 'varchar', length: '128' },
          id('dataset_id'),
          { name: 'target', type: 'varchar', length: '128' },
          json('features'),
          { name: 'algorithm', type: 'varchar', length: '64' },
          json('hyperparameters'),
          { name: 'validation_split', type: 'double precision' },
          { name: 'seed', type: 'integer' },
          { name: 'alias', type: 'varchar', length: '128', isNullable: true },
          { name: 'description', type: 'text', isNullable: true },
          json('tags'),
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'progress', type: 'double precision', default: 0 },
          json('loss_history'),
          json('metrics', true),
          { name: 'model_version', type: 'integer', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
          createdAt,
          { name: 'started_at', type: timestamp, isNullable: true },
          { name: 'finished_at', type: timestamp, isNullable: true },
        ],
        indices: [
          { name: 'idx_training_jobs_status_created', columnNames: ['status', 'created_at'] },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'registered_models',
        columns: [
          id(),
          { name: 'name', type: 'varchar', length: '128' },
          { name: 'description', type: 'text', isNullable: true },
          json('tags'),
          { name: 'last_version', type: 'integer', default: 0 },
          createdAt,
          updatedAt,
        ],
        uniques: [{ name: 'uq_registered_models_name', columnNames: ['name'] }],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'model_versions',
        columns: [
          id(),
          id('model_id'),
          { name: 'version', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'algorithm', type: 'varchar', length: '64' },
          { name: 'format', type: 'varchar', length: '64' },
          json('input_schema'),
          json('output_schema'),
          json('hyperparameters'),
          json('metrics'),
          json('loss_history'),
          { ...id('dataset_id'), isNullable: true },
          { name: 'dataset_checksum', type: 'varchar', length: '64', isNullable: true },
          { ...id('training_job_id'), isNullable: true },
          { name: 'artifact', type: 'text' },
          { name: 'checksum', type: 'varchar', length: '64' },
          { name: 'size_bytes', type: 'integer' },
          { name: 'description', type: 'text', isNullable: true },
          json('tags'),
          createdAt,
        ],
        uniques: [
          { name: 'uq_model_versions_model_version', columnNames: ['model_id', 'version'] },
        ],
        foreignKeys: [modelForeignKey],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'model_aliases',
        columns: [
          { ...id('model_id'), isPrimary: true },
          { name: 'alias', type: 'varchar', length: '128', isPrimary: true },
          { name: 'version', type: 'integer' },
          updatedAt,
        ],
        foreignKeys: [modelForeignKey],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'model_events',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          id('model_id'),
          { name: 'action', type: 'varchar', length: '32' },
          { name: 'alias', type: 'varchar', length: '128', isNullable: true },
          { name: 'from_version', type: 'integer', isNullable: true },
          { name: 'to_version', type: 'integer', isNullable: true },
          { name: 'actor', type: 'varchar', length: '128', isNullable: true },
          createdAt,
        ],
        indices: [{ name: 'idx_model_events_model_id', columnNames: ['model_id', 'id'] }],
        foreignKeys: [modelForeignKey],
      }),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'model_events',
      'model_aliases',
      'model_versions',
      'registered_models',
      'training_jobs',
      'datasets',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
