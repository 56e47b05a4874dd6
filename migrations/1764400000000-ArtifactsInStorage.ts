import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Model artifacts move from their registry row to `stored_objects` (key `artifacts/<version id>`),
 * beside the dataset contents: the object storage every replica and worker reads.
 */
export class ArtifactsInStorage1764400000000 implements MigrationInterface {
  name = 'ArtifactsInStorage1764400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const bytes = postgres ? "convert_to(artifact, 'UTF8')" : 'CAST(artifact AS BLOB)';
    await queryRunner.query(
      `INSERT INTO stored_objects (object_key, content, size_bytes, created_at)
       SELECT 'artifacts/' || id, ${bytes}, size_bytes, created_at FROM model_versions`,
    );
    await queryRunner.dropColumn('model_versions', 'artifact');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const text = postgres ? "convert_from(content, 'UTF8')" : 'CAST(content AS TEXT)';
    await queryRunner.addColumn(
      'model_versions',
      new TableColumn({ name: 'artifact', type: 'text', isNullable: true }),
    );
    await queryRunner.query(
      `UPDATE model_versions SET artifact = (SELECT ${text} FROM stored_objects
         WHERE stored_objects.object_key = 'artifacts/' || model_versions.id)`,
    );
    await queryRunner.query(`DELETE FROM stored_objects WHERE object_key LIKE 'artifacts/%'`);
  }
}
