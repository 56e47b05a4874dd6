import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_VERSION } from '../version-number';

const versionMessage = `version must be at most ${MAX_VERSION} (no version is larger)`;

export class CanaryRequest {
  @ApiProperty({ example: 4, minimum: 1, maximum: MAX_VERSION })
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION, { message: versionMessage })
  version: number;

  /** The share of the alias's requests the canary answers: above 0, below 1. */
  @ApiProperty({
    example: 0.1,
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 1,
    exclusiveMaximum: true,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(Number.MIN_VALUE, { message: 'weight must be above 0 (to stop the canary, DELETE it)' })
  @Max(1 - Number.EPSILON, {
    message: 'weight must be below 1 (to give the canary all traffic, promote it)',
  })
  weight: number;
}

export class ShadowRequest {
  @ApiProperty({ example: 5, minimum: 1, maximum: MAX_VERSION })
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION, { message: versionMessage })
  version: number;

  /** The share of the alias's requests also run on the shadow: above 0, at most 1. */
  @ApiProperty({ example: 0.5, minimum: 0, exclusiveMinimum: true, maximum: 1 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(Number.MIN_VALUE, { message: 'fraction must be above 0 (to stop the shadow, DELETE it)' })
  @Max(1)
  fraction: number;
}

export class SetAliasRequest {
  @ApiProperty({ example: 1, minimum: 1, maximum: MAX_VERSION })
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION, { message: versionMessage })
  version: number;

  /** Admins only: whether only an admin may move or delete this alias from now on. Omit to keep it. */
  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  protected?: boolean;

  /** A version that answers a share of the alias's requests; omit for none. */
  @ApiPropertyOptional({ type: CanaryRequest })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CanaryRequest)
  canary?: CanaryRequest;

  /** A version that also runs on a share of the requests, compared but never answering; omit for none. */
  @ApiPropertyOptional({ type: ShadowRequest })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ShadowRequest)
  shadow?: ShadowRequest;
}

export class CanaryResponse {
  @ApiProperty({ example: 4 })
  version: number;

  @ApiProperty({ example: 0.1 })
  weight: number;
}

export class ShadowResponse {
  @ApiProperty({ example: 5 })
  version: number;

  @ApiProperty({ example: 0.5 })
  fraction: number;
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

  @ApiProperty({ type: CanaryResponse, nullable: true })
  canary: CanaryResponse | null;

  @ApiProperty({ type: ShadowResponse, nullable: true })
  shadow: ShadowResponse | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:48:18.068Z' })
  updatedAt: string;
}
