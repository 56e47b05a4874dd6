import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names';
import { IsTags } from '../../common/tags.validator';
import { PageOf } from '../../common/pagination';

export class CreateModelRequest {
  @ApiProperty({ example: 'sales-forecast', pattern: NAME_PATTERN.source })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;

  @ApiPropertyOptional({ example: 'Weekly sales per store' })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiPropertyOptional({ example: { team: 'growth' } })
  @IsOptional()
  @IsTags()
  tags?: Record<string, string>;
}

export class ModelResponse {
  @ApiProperty({ example: 'sales-forecast' })
  name: string;

  description: string | null;

  @ApiProperty({ example: { team: 'growth' } })
  tags: Record<string, string>;

  /** The highest version number registered, null before the first. */
  @ApiProperty({ example: 3, nullable: true, type: Number })
  latestVersion: number | null;

  @ApiProperty({ example: { production: 2, staging: 3 } })
  aliases: Record<string, number>;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ModelPageResponse extends PageOf(ModelResponse) {}

export class SchemaFieldResponse {
  @ApiProperty({ example: 'x1' })
  name: string;

  @ApiProperty({ example: 'number' })
  type: string;
}

export class DatasetLineageResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;
  checksum: string;
}

export class ModelVersionResponse {
  @ApiProperty({ example: 'sales-forecast' })
  model: string;

  @ApiProperty({ example: 1 })
  version: number;

  @ApiProperty({ enum: ['ready', 'archived'] })
  status: string;

  @ApiProperty({ example: 'linear-regression' })
  algorithm: string;

  /** The artifact format (see README: the model artifact). */
  @ApiProperty({ example: 'modeldock/v1' })
  format: string;

  @ApiProperty({ type: [SchemaFieldResponse] })
  inputSchema: SchemaFieldResponse[];

  @ApiProperty({ type: [SchemaFieldResponse] })
  outputSchema: SchemaFieldResponse[];

  @ApiProperty({ example: { optimizer: 'gradient-descent', learningRate: 0.05, epochs: 2000 } })
  hyperparameters: Record<string, unknown>;

  @ApiProperty({
    example: {
      train: { mse: 2.1, rmse: 1.45, mae: 1.1, r2: 0.97 },
      validation: { mse: 2.4, rmse: 1.55, mae: 1.2, r2: 0.96 },
    },
  })
  metrics: Record<string, unknown>;

  /** Training loss per recorded epoch (at most 1000 points). */
  lossHistory: number[];

  @ApiProperty({ type: DatasetLineageResponse, nullable: true })
  dataset: DatasetLineageResponse | null;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  trainingJob: string | null;

  @ApiProperty({ example: ['production'] })
  aliases: string[];

  /** sha256 of the artifact; also its ETag. */
  checksum: string;
  sizeBytes: number;
  description: string | null;
  tags: Record<string, string>;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class ModelVersionPageResponse extends PageOf(ModelVersionResponse) {}

export class SetAliasRequest {
  @ApiProperty({ example: 2, minimum: 1 })
  @IsInt()
  @Min(1)
  version: number;
}

export class AliasResponse {
  @ApiProperty({ example: 'sales-forecast' })
  model: string;

  @ApiProperty({ example: 'production' })
  alias: string;

  @ApiProperty({ example: 2 })
  version: number;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ModelEventResponse {
  /** Increases with every event. */
  @ApiProperty({ example: 42 })
  id: number;

  @ApiProperty({ enum: ['model_created', 'version_created', 'alias_set', 'alias_deleted'] })
  action: string;

  @ApiProperty({ example: 'production', nullable: true, type: String })
  alias: string | null;

  @ApiProperty({ example: 1, nullable: true, type: Number })
  fromVersion: number | null;

  @ApiProperty({ example: 2, nullable: true, type: Number })
  toVersion: number | null;

  /** Who acted (the API key's name once authentication exists). */
  @ApiProperty({ nullable: true, type: String })
  actor: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class ModelEventPageResponse extends PageOf(ModelEventResponse) {}
