import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * How a version is served, beside what it computes: for ONNX versions, dynamic batching
 * (`maxBatchSize`, `maxQueueDelayMicros`), the class labels of a classifier's outputs and the
 * feature names of a tabular input, as one JSON document; null for versions that need none.
 */
export class ServingOptions1764600000000 implements MigrationInterface {
  name = 'ServingOptions1764600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'model_versions',
      new TableColumn({ name: 'serving', type: 'text', isNullable: true }),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('model_versions', 'serving');
  }
}
