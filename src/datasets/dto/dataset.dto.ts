import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names';
import { PageOf } from '../../common/pagination';

export class DatasetColumnResponse {
  @ApiProperty({ example: 'x1' })
  name: string;

  @ApiProperty({ enum: ['number', 'string'], example: 'number' })
  type: 'number' | 'string';

  /** Missing (empty) cells; training imputes them in features. */
  @ApiProperty({ example: 0 })
  missing: number;
}

export class DatasetResponse {
  @ApiProperty({ format: 'uuid', example: '7535b53f-dfaa-40fd-8120-b98f210ca973' })
  id: string;

  @ApiProperty({ example: 'housing' })
  name: string;

  @ApiProperty({ example: 442 })
  rowCount: number;

  @ApiProperty({ type: [DatasetColumnResponse] })
  columns: DatasetColumnResponse[];

  /** sha256 of the canonical content: the same table gives the same checksum, whatever the upload format. */
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' })
  checksum: string;

  /** Bytes of the stored (columnar) content. */
  @ApiProperty({ example: 1464 })
  sizeBytes: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:33:34.844Z' })
  createdAt: string;
}

export class DatasetPageResponse extends PageOf(DatasetResponse) {}

export class DatasetRowsResponse {
  @ApiProperty({ example: ['x1', 'x2', 'y'] })
  columns: string[];

  /** Cells in column order; `null` marks a missing value. */
  @ApiProperty({ type: 'array', items: { type: 'array', items: {} }, example: [[1, 2, 3.5]] })
  rows: (number | string | null)[][];

  @ApiProperty({ example: 442 })
  total: number;

  @ApiProperty({ example: 50 })
  limit: number;

  @ApiProperty({ example: 0 })
  offset: number;
}

/** `?name=` for CSV uploads (`Content-Type: text/csv`) and multipart forms. */
export class CreateDatasetQuery {
  @ApiPropertyOptional({
    description:
      'Dataset name: required for a CSV body; for a multipart form, its `name` field or else the file name (without its extension) when absent; overrides the name of a JSON body.',
    example: 'sales',
  })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name?: string;
}

/**
 * The walk-through's table (y = 2·x1 + 3·x2 + 1): Swagger UI's default upload, which the default
 * training job then trains `sales-forecast` on.
 */
export const SALES_DATASET_EXAMPLE = {
  name: 'sales',
  columns: ['x1', 'x2', 'y'],
  rows: [
    [1, 1, 6],
    [2, 1, 8],
    [3, 4, 19],
    [4, 3, 18],
    [5, 5, 26],
    [6, 2, 19],
    [7, 6, 33],
    [8, 1, 20],
    [9, 3, 28],
    [10, 4, 33],
  ],
};

/** The same table's first rows as records. */
export const SALES_RECORDS_EXAMPLE = {
  name: 'sales',
  records: SALES_DATASET_EXAMPLE.rows.slice(0, 3).map(([x1, x2, y]) => ({ x1, x2, y })),
};

/** Documentation of the JSON upload body; it is checked by the dataset parser, not class-validator. */
export class CreateDatasetRequest {
  @ApiProperty({ example: 'sales', pattern: NAME_PATTERN.source })
  name: string;

  @ApiPropertyOptional({ example: ['x1', 'x2', 'y'], description: 'With `rows`: column names.' })
  columns?: string[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'array', items: {} },
    example: [
      [1, 2, 3.1],
      [2, 1, 3.9],
    ],
    description: 'With `columns`: one array per row, in column order.',
  })
  rows?: unknown[][];

  @ApiPropertyOptional({
    example: [{ x1: 1, x2: 2, y: 3.1 }],
    description: 'Instead of columns/rows: one object per row.',
  })
  records?: Record<string, unknown>[];
}
