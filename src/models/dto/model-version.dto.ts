import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names';
import { PageOf, PaginationQuery } from '../../common/pagination';
import { MAX_TAGS } from '../../common/tags.validator';
import { DOWNLOAD_FORMATS, DownloadFormat } from '../artifact-downloads';
import { VersionStatus } from '../model-version.entity';
import { VERSION_SORT_PATTERN } from '../registry-queries';
import { UpdateModelRequest } from './model.dto';

const STATUSES: VersionStatus[] = ['ready', 'archived'];

export const ARTIFACT_EXAMPLE = {
  format: 'modeldock/v1',
  algorithm: 'linear-regression',
  inputs: [
    { name: 'x1', type: 'number' },
    { name: 'x2', type: 'number' },
  ],
  output: { name: 'y', type: 'number' },
  coefficients: [2.01, 2.98],
  intercept: 1.05,
};

export class UpdateVersionRequest extends UpdateModelRequest {
  /** `archived` stops the version serving (it keeps its lineage); `ready` restores it. */
  @ApiPropertyOptional({ enum: STATUSES, example: 'ready' })
  @ValidateIf((request: UpdateVersionRequest) => request.status !== undefined)
  @IsIn(STATUSES)
  status?: VersionStatus;
}

export class ImportVersionRequest extends UpdateModelRequest {
  /**
   * A model artifact in ModelDock's JSON format (`modeldock/v1`), e.g. coefficients exported from
   * scikit-learn. `preprocessing.standardize` is optional; without it the coefficients apply to raw
   * feature values.
   */
  @ApiProperty({ example: ARTIFACT_EXAMPLE })
  @IsObject()
  artifact: Record<string, unknown>;

  /** Point this alias at the new version. */
  @ApiPropertyOptional({ example: 'staging' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias?: string;
}

/** A tag given in the query string: `key:value`. */
const QUERY_TAG_PATTERN = /^[^:]{1,256}:.{0,256}$/;

/**
 * With the artifact posted as it is (as downloaded), what the wrapped form carries beside it comes
 * from the query string: `?alias=staging&description=…&tag=owner:pricing&tag=source:sklearn`.
 */
export class ImportVersionQuery {
  /** Point this alias at the new version. */
  @ApiPropertyOptional({ example: 'staging' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias?: string;

  @ApiPropertyOptional({ example: 'coefficients from scikit-learn' })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string;

  /** `key:value`, repeatable. */
  @ApiPropertyOptional({ type: [String], example: ['owner:pricing'] })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @Matches(QUERY_TAG_PATTERN, { each: true, message: 'each tag must be key:value' })
  tag?: string[];

  /**
   * ONNX: the labels of a classifier's probability columns, comma-separated, in column order
   * (all-integer labels are numbers), e.g. `setosa,versicolor,virginica`. v1 then answers
   * `classes`, `probabilities` and labels.
   */
  // No examples on these four: Swagger's "try it out" would send them with the JSON example.
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100000)
  classes?: string;

  /**
   * ONNX: the names of the tabular input's columns, comma-separated, so v1 instances may be
   * objects, e.g. `sepal_length,sepal_width,petal_length,petal_width`.
   */
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100000)
  features?: string;

  /**
   * ONNX: turn dynamic batching on, running concurrent requests together in batches of at most
   * this many rows (the graph's first dimension must be open). Off when absent.
   */
  @ApiPropertyOptional({ minimum: 1, maximum: 65536 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65536)
  maxBatchSize?: number;

  /** ONNX, with maxBatchSize: how long the first request of a batch may wait for others (default 500). */
  @ApiPropertyOptional({ minimum: 0, maximum: 1000000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000000)
  maxQueueDelayMicros?: number;
}

export class ArtifactQuery {
  /** `stored` (default): exactly as stored; `onnx`: an ONNX graph (versions trained here are exported). */
  @ApiPropertyOptional({ enum: DOWNLOAD_FORMATS, example: 'onnx' })
  @IsOptional()
  @IsIn(DOWNLOAD_FORMATS)
  format?: DownloadFormat;
}

export class VersionListQuery extends PaginationQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: VersionStatus;

  /**
   * `version` (default `-version`, newest first), `createdAt`, or `metric:<train|validation>.<name>`;
   * a leading `-` sorts descending. The best version by validation r2: `-metric:validation.r2`;
   * by validation mse: `metric:validation.mse`. Versions without the metric come last.
   */
  @ApiPropertyOptional({ example: '-metric:validation.r2', pattern: VERSION_SORT_PATTERN.source })
  @IsOptional()
  @Matches(VERSION_SORT_PATTERN, {
    message:
      'sort must be version, createdAt or metric:<train|validation>.<metric>, optionally prefixed by -',
  })
  sort?: string;
}

export class SchemaFieldResponse {
  @ApiProperty({ example: 'area_m2' })
  name: string;

  /** `number` or `string` for features; for ONNX tensors, the datatype (FP32, INT64, BYTES…). */
  @ApiProperty({ example: 'number' })
  type: string;

  /** ONNX tensors: the shape, -1 for a dimension the graph leaves open. */
  @ApiPropertyOptional({ type: [Number], example: [-1, 4] })
  shape?: number[];
}

export class BatchingResponse {
  /** The most rows one batch runs. */
  @ApiProperty({ example: 64 })
  maxBatchSize: number;

  /** How long a batch's first request waits for others. */
  @ApiProperty({ example: 500 })
  maxQueueDelayMicros: number;
}

/** How an ONNX version is served, as registered. */
export class ServingOptionsResponse {
  /** Dynamic batching; absent: off. */
  @ApiPropertyOptional({ type: BatchingResponse })
  batching?: BatchingResponse;

  /** A classifier's labels, in probability-column order. */
  @ApiPropertyOptional({ type: 'array', items: {}, example: ['setosa', 'versicolor', 'virginica'] })
  classes?: (string | number)[];

  /** The tabular input's column names (v1 instances may be objects keyed by them). */
  @ApiPropertyOptional({ type: [String], example: ['sepal_length', 'sepal_width'] })
  features?: string[];
}

export class DatasetLineageResponse {
  @ApiProperty({ format: 'uuid', example: '7535b53f-dfaa-40fd-8120-b98f210ca973' })
  id: string;

  /** The dataset's name when the version was trained. */
  @ApiProperty({ example: 'housing', nullable: true, type: String })
  name: string | null;

  @ApiProperty({ example: '331ebfadcfe6980fd4ed74af68c27f773cfc9fb8ac48379ae6c6049149ba91d1' })
  checksum: string;
}

/** One column of a reference profile: decile bins for numbers, category counts for strings. */
export class ColumnProfileResponse {
  @ApiProperty({ enum: ['number', 'string'], example: 'number' })
  kind: 'number' | 'string';

  @ApiProperty({ example: 'bmi' })
  name: string;

  /** Rows profiled, missing ones included. */
  @ApiProperty({ example: 353 })
  count: number;

  /** Rows whose value was missing. */
  @ApiProperty({ example: 0 })
  missing: number;

  /**
   * Numbers: interior bin edges (deciles, distinct, below the maximum); bin i holds values in
   * (edges[i-1], edges[i]]. A 0/1 column has one edge and two bins.
   */
  @ApiPropertyOptional({ type: [Number], example: [-0.0611, -0.0401, -0.0218, 0.0014, 0.0455] })
  edges?: number[];

  /** Numbers: non-missing values per bin (edges.length + 1 entries). */
  @ApiPropertyOptional({ type: [Number], example: [36, 35, 36, 35, 106, 105] })
  counts?: number[];

  @ApiPropertyOptional({ example: -0.0903 })
  min?: number;

  @ApiPropertyOptional({ example: 0.1706 })
  max?: number;

  @ApiPropertyOptional({ example: 0.0004 })
  mean?: number;

  @ApiPropertyOptional({ example: 0.0477 })
  std?: number;

  /** Strings: rows per category (the most frequent; the rest under `__other__`). */
  @ApiPropertyOptional({ example: { red: 120, blue: 80 } })
  categories?: Record<string, number>;
}

/**
 * What drift compares live inputs with: the training split of a version trained here, or the
 * dataset given to `PUT …/versions/{version}/reference`.
 */
export class ReferenceProfileResponse {
  /** Rows profiled. */
  @ApiProperty({ example: 353 })
  rows: number;

  @ApiProperty({ type: [ColumnProfileResponse] })
  features: ColumnProfileResponse[];

  /** The version's outputs on those rows (values of a regressor, labels of a classifier). */
  @ApiProperty({ type: ColumnProfileResponse, nullable: true })
  predictions: ColumnProfileResponse | null;
}

export class ModelVersionResponse {
  @ApiProperty({ example: 'house-prices' })
  model: string;

  @ApiProperty({ example: 1 })
  version: number;

  @ApiProperty({ enum: STATUSES, example: 'ready' })
  status: VersionStatus;

  @ApiProperty({ example: 'linear-regression' })
  algorithm: string;

  /** The artifact format. */
  @ApiProperty({ example: 'modeldock/v1' })
  format: string;

  @ApiProperty({ type: [SchemaFieldResponse] })
  inputSchema: SchemaFieldResponse[];

  @ApiProperty({ type: [SchemaFieldResponse], example: [{ name: 'price', type: 'number' }] })
  outputSchema: SchemaFieldResponse[];

  @ApiProperty({
    example: { optimizer: 'gradient-descent', learningRate: 0.1, epochs: 500, tolerance: 0 },
  })
  hyperparameters: Record<string, unknown>;

  /** Train and validation metrics of a trained version; `{}` for an imported one. */
  @ApiProperty({
    example: {
      train: { mse: 153291582.19, rmse: 12381.1, mae: 10432.31, r2: 0.973 },
      validation: { mse: 225061297.4, rmse: 15002.04, mae: 13258.96, r2: 0.954 },
    },
  })
  metrics: Record<string, unknown>;

  /** Training loss per recorded epoch (at most 1000 points). */
  @ApiProperty({ example: [28083335848.97, 22802475625.7, 76645791.09] })
  lossHistory: number[];

  @ApiProperty({ type: DatasetLineageResponse, nullable: true })
  dataset: DatasetLineageResponse | null;

  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    example: '0f313cce-9fb6-4a30-9473-56a9579a469f',
  })
  trainingJob: string | null;

  /** `training-job:<id>` or `import`. */
  @ApiProperty({
    example: 'training-job:0f313cce-9fb6-4a30-9473-56a9579a469f',
    nullable: true,
    type: String,
  })
  createdBy: string | null;

  @ApiProperty({ example: ['production'] })
  aliases: string[];

  /** sha256 of the artifact; also its ETag. */
  @ApiProperty({ example: 'bd7c1f0e5c6d2a0b5e9d1d2b7a9f9c3e1f0a4b5c6d7e8f9a0b1c2d3e4f5a6b7c' })
  checksum: string;

  @ApiProperty({ example: 412 })
  sizeBytes: number;

  @ApiProperty({ nullable: true, type: String, example: 'all three features, gradient descent' })
  description: string | null;

  @ApiProperty({ example: { owner: 'pricing' } })
  tags: Record<string, string>;

  /** ONNX versions: batching, class labels and feature names given at registration. */
  @ApiPropertyOptional({ type: ServingOptionsResponse })
  serving?: ServingOptionsResponse;

  /**
   * What drift compares live inputs with (GET …/versions/{version}/drift); null until one exists:
   * versions trained here get one, others from PUT …/versions/{version}/reference. Not in lists.
   */
  @ApiProperty({ type: ReferenceProfileResponse, nullable: true })
  reference: ReferenceProfileResponse | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:33:34.957Z' })
  createdAt: string;
}

/** A version in a list: its loss history summed up (the full history is on the version itself). */
export class ModelVersionSummaryResponse extends OmitType(ModelVersionResponse, [
  'lossHistory',
  'reference',
]) {
  /** Points in the version's loss history (one per recorded epoch); 0 for an imported version. */
  @ApiProperty({ example: 500 })
  lossPoints: number;

  /** The last recorded training loss; null for an imported version. */
  @ApiProperty({ example: 76645791.09, nullable: true, type: Number })
  finalLoss: number | null;
}

export class ModelVersionPageResponse extends PageOf(ModelVersionSummaryResponse) {}
