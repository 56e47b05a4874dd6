import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * Registry lineage and listing: who or what created a version, the dataset's name as it was at
 * training time, and an index for listing models by last update.
 */
export class RegistryProvenance1764100000000 implements MigrationInterface {
  name = 'RegistryProvenance1764100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('model_versions', [
      new TableColumn({ name: 'created_by', type: 'varchar', length: '160', isNullable: true }),
      new TableColumn({ name: 'dataset_name', type: 'varchar', length: '128', isNullable: true }),
    ]);
    await queryRunner.createIndex(
      'registered_models',
      new TableIndex({ name: 'idx_registered_models_updated', columnNames: ['updated_at'] }),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('registered_models', 'idx_registered_models_updated');
    await queryRunner.dropColumn('model_versions', 'dataset_name');
    await queryRunner.dropColumn('model_versions', 'created_by');
  }
}
