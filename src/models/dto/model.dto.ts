import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names';
import { PageOf, PaginationQuery } from '../../common/pagination';
import { IsTags } from '../../common/tags.validator';
import { MODEL_SORTS, ModelSort } from '../registry-queries';

export class UpdateModelRequest {
  @ApiPropertyOptional({ example: 'Weekly sales per store', nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string;

  /** Replaces all tags. */
  @ApiPropertyOptional({ example: { team: 'growth' } })
  // null is not "no change" here: tags are cleared with {}.
  @ValidateIf((request: UpdateModelRequest) => request.tags !== undefined)
  @IsTags()
  tags?: Record<string, string>;
}

export class CreateModelRequest extends UpdateModelRequest {
  @ApiProperty({ example: 'sales-forecast', pattern: NAME_PATTERN.source })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;
}

export class ModelListQuery extends PaginationQuery {
  /** Only models whose name starts with this (case-sensitive). */
  @ApiPropertyOptional({ example: 'sales-' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  prefix?: string;

  /** `key` (models that have the tag) or `key:value`. */
  @ApiPropertyOptional({ example: 'team:growth' })
  @IsOptional()
  @IsString()
  @MaxLength(513)
  tag?: string;

  /** A leading `-` sorts descending: `-updatedAt` lists the most recently changed first. */
  @ApiPropertyOptional({ enum: MODEL_SORTS, default: 'name' })
  @IsOptional()
  @IsIn(MODEL_SORTS as unknown as string[])
  sort: ModelSort = 'name';
}

export class ModelResponse {
  @ApiProperty({ example: 'sales-forecast' })
  name: string;

  @ApiProperty({ example: 'Weekly sales per store', nullable: true, type: String })
  description: string | null;

  @ApiProperty({ example: { team: 'growth' } })
  tags: Record<string, string>;

  /** The highest version number that exists, null before the first. */
  @ApiProperty({ example: 3, nullable: true, type: Number })
  latestVersion: number | null;

  @ApiProperty({ example: { production: 2, staging: 3 } })
  aliases: Record<string, number>;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:33:34.943Z' })
  createdAt: string;

  /** When a version, alias or the model itself last changed. */
  @ApiProperty({ format: 'date-time', example: '2026-11-24T15:02:11.120Z' })
  updatedAt: string;
}

export class ModelPageResponse extends PageOf(ModelResponse) {}
