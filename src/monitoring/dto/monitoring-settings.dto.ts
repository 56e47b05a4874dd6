import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';

/** Limits that keep a setting meaningful: ten years, ten million entries per model. */
export const MAX_AGE_DAYS = 3650;
export const MAX_ROWS = 10_000_000;

export class SetMonitoringRequest {
  /** The fraction of requests logged, 0 to 1; 0 turns the log off. */
  @ApiProperty({ example: 0.1, minimum: 0, maximum: 1 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  sampleRate: number;

  /** Entries kept for the model, the newest; omit to keep the current value. */
  @ApiPropertyOptional({ example: 100000, minimum: 1, maximum: MAX_ROWS })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_ROWS)
  maxRows?: number;

  /** Entries older than this many days are removed; omit to keep the current value. */
  @ApiPropertyOptional({ example: 30, minimum: 1, maximum: MAX_AGE_DAYS })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_AGE_DAYS)
  maxAgeDays?: number;
}

export class MonitoringSettingsResponse {
  @ApiProperty({ example: 0.1 })
  sampleRate: number;

  @ApiProperty({ example: 100000 })
  maxRows: number;

  @ApiProperty({ example: 30 })
  maxAgeDays: number;
}
