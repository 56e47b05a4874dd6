import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString } from 'class-validator';
import { PageOf } from '../../common/pagination';
import { Permission, PERMISSIONS, Role, ROLES } from '../roles';

export class CreateApiKeyRequest {
  /** Who or what the key is for; recorded in the audit trail of everything the key does. */
  @ApiProperty({ example: 'ci-pipeline' })
  @IsString()
  name: string;

  @ApiProperty({ enum: ROLES, example: 'trainer' })
  @IsIn(ROLES)
  role: Role;

  /** When the key stops working; omit for a key that lasts until revoked. */
  @ApiPropertyOptional({ format: 'date-time', example: '2027-06-30T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid', example: '6f1d2c7e-4b8a-4f3e-9d21-0c5b7a9e8f10' })
  id: string;

  @ApiProperty({ example: 'ci-pipeline' })
  name: string;

  @ApiProperty({ enum: ROLES, example: 'trainer' })
  role: Role;

  /** The start of the key, to tell keys apart; not enough to use it. */
  @ApiProperty({ example: 'mdk_3f9a1c2b7d0e' })
  prefix: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-01T09:30:00.000Z' })
  createdAt: string;

  /** The key that created this one. */
  @ApiProperty({ type: String, nullable: true, example: 'bootstrap-admin' })
  createdBy: string | null;

  /** To the minute. */
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T10:02:00.000Z',
  })
  lastUsedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  expiresAt: string | null;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  /** The key itself: shown in this response only, never again. */
  @ApiProperty({ example: 'mdk_3f9a1c2b7d0e_q5WmD0xk1cVb8Vd3m3b5Q0mKf7Zq3H1oYz9s2L4nR8w' })
  key: string;
}

export class ApiKeyPageResponse extends PageOf(ApiKeyResponse) {}

/** The key a request was made with, as the console needs it to show only what the key may do. */
export class CurrentApiKeyResponse {
  /** Null for the bootstrap admin key (data/admin.key), which has no row. */
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: null })
  id: string | null;

  @ApiProperty({ example: 'bootstrap-admin' })
  name: string;

  @ApiProperty({ enum: ROLES, example: 'admin' })
  role: Role;

  /** What the role grants (see the roles in the API guide). */
  @ApiProperty({ enum: PERMISSIONS, isArray: true, example: [...PERMISSIONS] })
  permissions: Permission[];
}
