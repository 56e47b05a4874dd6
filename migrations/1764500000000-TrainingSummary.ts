import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * A succeeded training job keeps how its run went (epochs run, whether it stopped early, the
 * split sizes, the validation loss curve) as one JSON document; null until it succeeds.
 */
export class TrainingSummary1764500000000 implements MigrationInterface {
  name = 'TrainingSummary1764500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'training_jobs',
      new TableColumn({ name: 'training', type: 'text', isNullable: true }),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('training_jobs', 'training');
  }
}
