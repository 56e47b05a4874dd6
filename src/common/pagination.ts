import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class PaginationQuery {
  /** Page size. */
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 50;

  /** Items to skip. */
  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export function mapPage<T, R>(page: Page<T>, map: (item: T) => R): Page<R> {
  return { ...page, items: page.items.map(map) };
}

/** A documented page of `item`s, e.g. `class ModelPageResponse extends PageOf(ModelResponse) {}`. */
export function PageOf<T>(item: ClassType<T>) {
  class PageResponse implements Page<T> {
    @ApiProperty({ type: [item] })
    items: T[];

    @ApiProperty({ example: 1, description: 'Items in the whole list.' })
    total: number;

    @ApiProperty({ example: 50 })
    limit: number;

    @ApiProperty({ example: 0 })
    offset: number;
  }
  return PageResponse;
}
