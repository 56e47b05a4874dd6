import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** The columns this migration adds, table by table, as SQL both databases accept. */
const COLUMNS: [table: string, column: string, type: string][] = [
  ['registered_models', 'monitoring', 'text'],
  ['model_versions', 'reference', 'text'],
  ['model_aliases', 'canary_version', 'integer'],
  ['model_aliases', 'canary_weight', 'double precision'],
  ['model_aliases', 'shadow_version', 'integer'],
  ['model_aliases', 'shadow_fraction', 'double precision'],
];

/**
 * Watching models in production:
 * - `prediction_log`: a sampled record of the requests each replica answered;
 * - `registered_models.monitoring`: the model's log settings (sample rate, retention), as JSON;
 * - `model_versions.reference`: the version's reference profile (training-split bins, category
 *   frequencies, missing rates), as JSON; its value samples live in object storage;
 * - `model_aliases`: a canary (version and weight) and a shadow (version and fraction).
 *
 * Columns are added and dropped with plain ALTER TABLE: TypeORM's addColumn rebuilds a SQLite
 * table (copy, drop, rename), and dropping `registered_models` inside the migration's transaction,
 * where foreign keys cannot be switched off, would cascade-delete every version, alias and event.
 */
export class Monitoring1764700000000 implements MigrationInterface {
  name = 'Monitoring1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'timestamp' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'prediction_log',
        columns: [
          {
            name: 'id',
            type: postgres ? 'bigint' : 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'model_id', type: 'varchar', length: '36' },
          { name: 'version', type: 'integer' },
          { name: 'alias', type: 'varchar', length: '128', isNullable: true },
          { name: 'request_id', type: 'varchar', length: '128' },
          { name: 'route', type: 'varchar', length: '8' },
          { name: 'api_key_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'rows', type: 'integer' },
          { name: 'latency_ms', type: 'double precision' },
          { name: 'inputs', type: 'text' },
          { name: 'outputs', type: 'text' },
          { name: 'created_at', type: timestamp },
        ],
        indices: [
          { name: 'idx_prediction_log_model_time', columnNames: ['model_id', 'created_at'] },
          {
            name: 'idx_prediction_log_version_time',
            columnNames: ['model_id', 'version', 'created_at'],
          },
        ],
        foreignKeys: [
          {
            columnNames: ['model_id'],
            referencedTableName: 'registered_models',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    for (const [table, column, type] of COLUMNS) {
      await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, column] of [...COLUMNS].reverse()) {
      await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN ${column}`);
    }
    await queryRunner.dropTable('prediction_log');
  }
}
