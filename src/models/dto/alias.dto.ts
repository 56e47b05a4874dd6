import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Min } from 'class-validator';

export class SetAliasRequest {
  @ApiProperty({ example: 2, minimum: 1 })
  @IsInt()
  @Min(1)
  version: number;
}

export class AliasResponse {
  @ApiProperty({ example: 'house-prices' })
  model: string;

  @ApiProperty({ example: 'production' })
  alias: string;

  @ApiProperty({ example: 2 })
  version: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:48:18.068Z' })
  updatedAt: string;
}
