import { Dataset } from './dataset.entity';
import { DatasetResponse } from './dto/dataset.dto';

export function toDatasetResponse(dataset: Dataset): DatasetResponse {
  return {
    id: dataset.id,
    name: dataset.name,
    rowCount: dataset.rowCount,
    columns: dataset.columns.map(({ name, type, missing }) => ({ name, type, missing })),
    checksum: dataset.checksum,
    sizeBytes: dataset.sizeBytes,
    createdAt: dataset.createdAt.toISOString(),
  };
}
