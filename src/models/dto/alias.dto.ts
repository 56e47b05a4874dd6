import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_VERSION } from '../version-number';

export class SetAliasRequest {
  @ApiProperty({ example: 1, minimum: 1, maximum: MAX_VERSION })
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION, { message: `version must be at most ${MAX_VERSION} (no version is larger)` })
  version: number;

  /** Admins only: whether only an admin may move or delete this alias from now on. Omit to keep it. */
  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  protected?: boolean;
}

export class AliasResponse {
  @ApiProperty({ example: 'house-prices' })
  model: string;

  @ApiProperty({ example: 'production' })
  alias: string;

  @ApiProperty({ example: 2 })
  version: number;

  /** Only an admin may move or delete a protected alias. */
  @ApiProperty({ example: false })
  protected: boolean;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:48:18.068Z' })
  updatedAt: string;
}
