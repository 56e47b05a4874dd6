import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { mapPage, PaginationQuery } from '../common/pagination';
import { Access, CurrentActor } from './access.decorator';
import type { Principal } from './api-keys.service';
import { ApiKeysService } from './api-keys.service';
import { toApiKeyResponse } from './api-keys.mapper';
import {
  ApiKeyPageResponse,
  CreateApiKeyRequest,
  CreatedApiKeyResponse,
  CurrentApiKeyResponse,
} from './dto/api-key.dto';
import { PERMISSIONS, grants } from './roles';

@ApiTags('api-keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Access('admin')
  @ApiOperation({
    summary: 'Create an API key',
    description: 'The response holds the key; it is stored only as a hash and never shown again.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  async create(
    @Body() body: CreateApiKeyRequest,
    @CurrentActor() actor: Principal,
  ): Promise<CreatedApiKeyResponse> {
    const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt);
    const { apiKey, key } = await this.keys.create({ ...body, expiresAt }, actor);
    return { ...toApiKeyResponse(apiKey), key };
  }

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'List active API keys (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyPageResponse })
  async list(@Query() page: PaginationQuery): Promise<ApiKeyPageResponse> {
    return mapPage(await this.keys.list(page.limit, page.offset), toApiKeyResponse);
  }

  @Get('current')
  @Access('metadata')
  @ApiOperation({
    summary: 'The key this request carries: its name, role and what the role grants',
    description: 'Any valid key may ask; the console reads it to show only what the key may do.',
  })
  @ApiOkResponse({ type: CurrentApiKeyResponse })
  current(@CurrentActor() actor: Principal): CurrentApiKeyResponse {
    return {
      id: actor.keyId,
      name: actor.name,
      role: actor.role,
      permissions: PERMISSIONS.filter((permission) => grants(actor.role, permission)),
    };
  }

  @Delete(':id')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key at once' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async revoke(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentActor() actor: Principal,
  ): Promise<void> {
    await this.keys.revoke(id, actor);
  }
}
