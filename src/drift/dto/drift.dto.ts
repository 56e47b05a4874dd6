import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class SetReferenceRequest {
  /**
   * The dataset to profile: its id, or a name (the newest dataset of that name). It must hold the
   * version's features (other columns are ignored); at most 1,000,000 rows.
   */
  @ApiProperty({ example: 'diabetes' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  dataset: string;
}

export class DriftQuery {
  /** Start of the window, ISO 8601 (inclusive). Default: 24 hours before `to`. */
  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-02T12:00:00Z' })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'from must be an ISO 8601 time, e.g. 2026-12-02T12:00:00Z' },
  )
  from?: string;

  /** End of the window, ISO 8601 (exclusive). Default: now. */
  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-03T12:00:00Z' })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'to must be an ISO 8601 time, e.g. 2026-12-03T12:00:00Z' },
  )
  to?: string;
}

export class KsResponse {
  /** The two-sample Kolmogorov–Smirnov statistic (largest gap between the two CDFs). */
  @ApiProperty({ example: 0.4312 })
  statistic: number;

  @ApiProperty({ example: 1.2e-38 })
  pValue: number;
}

export class MissingRateResponse {
  @ApiProperty({ example: 0 })
  reference: number;

  @ApiProperty({ example: 0.02 })
  live: number;
}

export class BinsResponse {
  /** The reference's interior bin edges. */
  @ApiProperty({ type: [Number], example: [0] })
  edges: number[];

  /** Proportion of the reference's values in each bin. */
  @ApiProperty({ type: [Number], example: [0.53, 0.47] })
  reference: number[];

  /** Proportion of the live values in each bin. */
  @ApiProperty({ type: [Number], example: [0.51, 0.49] })
  live: number[];
}

export class CategoryShareResponse {
  @ApiProperty({ example: 'red' })
  name: string;

  @ApiProperty({ example: 0.6 })
  reference: number;

  @ApiProperty({ example: 0.4 })
  live: number;
}

export class FeatureDriftResponse {
  @ApiProperty({ example: 'bmi' })
  name: string;

  @ApiProperty({ enum: ['number', 'string'], example: 'number' })
  kind: 'number' | 'string';

  /** PSI ≥ 0.1 is a warning, ≥ 0.25 drift; `ok` when too few live values to rate. */
  @ApiProperty({ enum: ['ok', 'warning', 'drift'], example: 'drift' })
  status: 'ok' | 'warning' | 'drift';

  /** False when the window has too few live values to rate the feature. */
  @ApiProperty({ example: true })
  rated: boolean;

  /** Live non-missing values compared. */
  @ApiProperty({ example: 500 })
  sampleSize: number;

  /** Reference non-missing values. */
  @ApiProperty({ example: 353 })
  referenceSize: number;

  /** Population stability index over the reference's bins (or categories). */
  @ApiProperty({ example: 1.92, nullable: true, type: Number })
  psi: number | null;

  /** Numbers: the two-sample Kolmogorov–Smirnov test against the reference sample. */
  @ApiPropertyOptional({ type: KsResponse })
  ks?: KsResponse;

  /** Numbers: the Wasserstein (earth mover's) distance to the reference sample, in the feature's units. */
  @ApiPropertyOptional({ example: 0.0412 })
  wasserstein?: number;

  /** Strings: the Jensen–Shannon distance of the category frequencies (base e). */
  @ApiPropertyOptional({ example: 0.12 })
  jensenShannon?: number;

  @ApiProperty({ type: MissingRateResponse })
  missingRate: MissingRateResponse;

  @ApiPropertyOptional({ type: BinsResponse })
  bins?: BinsResponse;

  @ApiPropertyOptional({ type: [CategoryShareResponse] })
  categories?: CategoryShareResponse[];
}

export class DriftResponse {
  @ApiProperty({ example: 'diabetes-lr' })
  model: string;

  @ApiProperty({ example: 1 })
  version: number;

  @ApiProperty({ format: 'date-time', example: '2026-12-02T12:00:00.000Z' })
  from: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-03T12:00:00.000Z' })
  to: string;

  /** Logged rows compared (the newest 100,000 of the window at most). */
  @ApiProperty({ example: 500 })
  sampleSize: number;

  /** Logged requests of the window whose inputs were not kept (large tensors are logged as digests). */
  @ApiProperty({ example: 0 })
  skippedRequests: number;

  /** Rows the reference profiled. */
  @ApiProperty({ example: 353 })
  referenceSize: number;

  /** The worst status among the rated features. */
  @ApiProperty({ enum: ['ok', 'warning', 'drift'], example: 'drift' })
  status: 'ok' | 'warning' | 'drift';

  @ApiProperty({ type: [FeatureDriftResponse] })
  features: FeatureDriftResponse[];

  /** The version's outputs against its outputs on the reference; null without them (ONNX references). */
  @ApiProperty({ type: FeatureDriftResponse, nullable: true })
  predictions: FeatureDriftResponse | null;
}
