import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Security: API keys (hashes only), who submitted a training job, and aliases an admin protects
 * (only an admin may move or delete them).
 */
export class ApiKeys1764200000000 implements MigrationInterface {
  name = 'ApiKeys1764200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'timestamp' : 'datetime';
    const now = postgres ? 'now()' : "datetime('now')";
    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '128' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'prefix', type: 'varchar', length: '32' },
          { name: 'hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: timestamp, default: now },
          { name: 'created_by', type: 'varchar', length: '128', isNullable: true },
          { name: 'last_used_at', type: timestamp, isNullable: true },
          { name: 'expires_at', type: timestamp, isNullable: true },
          { name: 'revoked_at', type: timestamp, isNullable: true },
        ],
        indices: [{ name: 'idx_api_keys_prefix', columnNames: ['prefix'], isUnique: true }],
      }),
    );
    await queryRunner.addColumns('training_jobs', [
      new TableColumn({ name: 'created_by', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'created_by_role', type: 'varchar', length: '16', isNullable: true }),
    ]);
    await queryRunner.addColumn(
      'model_aliases',
      new TableColumn({ name: 'protected', type: 'boolean', default: false }),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('model_aliases', 'protected');
    await queryRunner.dropColumn('training_jobs', 'created_by_role');
    await queryRunner.dropColumn('training_jobs', 'created_by');
    await queryRunner.dropTable('api_keys');
  }
}
