import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { PageOf, PaginationQuery } from '../../common/pagination';
import { VERSION_TEXT_PATTERN } from '../../models/version-number';

export const LOG_FORMATS = ['json', 'jsonl', 'csv'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A date, or a date and time with its offset: never a local time the server would guess at. */
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const timeRule = (field: string) =>
  `${field} must be an ISO-8601 time with its offset, such as 2026-12-01T00:00:00Z, or a date such as 2026-12-01 (midnight UTC)`;

export class PredictionLogQuery extends PaginationQuery {
  /** Only this version's entries. */
  @ApiPropertyOptional({ type: String, pattern: VERSION_TEXT_PATTERN.source, example: '1' })
  @IsOptional()
  @IsString()
  version?: string;

  /** Entries logged at or after this time. */
  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @Matches(TIME_PATTERN, { message: timeRule('from') })
  @IsISO8601({ strict: true }, { message: timeRule('from') })
  from?: string;

  /** Entries logged before this time. */
  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-31T00:00:00Z' })
  @IsOptional()
  @Matches(TIME_PATTERN, { message: timeRule('to') })
  @IsISO8601({ strict: true }, { message: timeRule('to') })
  to?: string;

  /**
   * `json`: a page (limit, offset). `jsonl` or `csv`: every matching entry as a download,
   * streamed (limit and offset do not apply).
   */
  @ApiPropertyOptional({ enum: LOG_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(LOG_FORMATS as unknown as string[])
  format: LogFormat = 'json';
}

export class PredictionLogEntryResponse {
  /** Increases with every entry written. */
  @ApiProperty({ example: 1024 })
  id: number;

  /** When the answer was sent. */
  @ApiProperty({ format: 'date-time', example: '2026-12-04T09:30:12.345Z' })
  time: string;

  /** The request's X-Request-Id. */
  @ApiProperty({ example: 'req-7f3a' })
  requestId: string;

  @ApiProperty({ example: 'house-prices' })
  model: string;

  @ApiProperty({ example: 2 })
  version: number;

  /** The alias that served the request; null when the request named a version. */
  @ApiProperty({ example: 'production', nullable: true, type: String })
  alias: string | null;

  /** `v1` (predict) or `v2` (Open Inference Protocol infer). */
  @ApiProperty({ enum: ['v1', 'v2'], example: 'v1' })
  route: string;

  /** The id of the API key that asked (never the key itself). */
  @ApiProperty({ example: 'a3c1e2f0-5b7d-4c1e-9f00-0123456789ab', nullable: true, type: String })
  apiKeyId: string | null;

  /** Rows (instances) predicted. */
  @ApiProperty({ example: 1 })
  rows: number;

  @ApiProperty({ example: 0.42 })
  latencyMs: number;

  /** v1: `{ instances, truncatedRows? }`; v2: `{ inputs: [tensor] }` (docs/monitoring.md). */
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { instances: [[8.3, 41, 6.98]] },
  })
  inputs: Record<string, unknown>;

  /** v1: `{ predictions, probabilities?, classes?, truncatedRows? }`; v2: `{ outputs: [tensor] }`. */
  @ApiProperty({ type: 'object', additionalProperties: true, example: { predictions: [4.52] } })
  outputs: Record<string, unknown>;
}

export class PredictionLogPageResponse extends PageOf(PredictionLogEntryResponse) {}
