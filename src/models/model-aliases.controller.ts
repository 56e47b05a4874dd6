import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Access, CurrentActor } from '../auth/access.decorator';
import type { Actor } from '../auth/roles';
import { AliasResponse, SetAliasRequest } from './dto/alias.dto';
import { toAliasResponse } from './models.mapper';
import { ModelsService } from './models.service';

@ApiTags('models')
@Controller('v1/models/:name/aliases')
export class ModelAliasesController {
  constructor(private readonly models: ModelsService) {}

  @Put(':alias')
  @Access('write')
  @ApiOperation({
    summary: 'Point an alias at a version: promote or roll back',
    description:
      'The next prediction request after this response is served by the new version. ' +
      '`production` is what `POST /v1/models/{name}/predict` serves by default. ' +
      'A protected alias (`"protected": true`, set by an admin) is moved or deleted by admins only.',
  })
  @ApiOkResponse({ type: AliasResponse })
  @ApiNotFoundResponse({ description: 'No such model or version.' })
  @ApiConflictResponse({ description: 'The version is archived.' })
  async set(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Body() body: SetAliasRequest,
    @CurrentActor() actor: Actor,
  ): Promise<AliasResponse> {
    return toAliasResponse(
      name,
      await this.models.setAlias(name, alias, body.version, actor, body.protected),
    );
  }

  @Get(':alias')
  @Access('metadata')
  @ApiOperation({ summary: 'Which version an alias points at' })
  @ApiOkResponse({ type: AliasResponse })
  @ApiNotFoundResponse()
  async get(@Param('name') name: string, @Param('alias') alias: string): Promise<AliasResponse> {
    return toAliasResponse(name, await this.models.getAlias(name, alias));
  }

  @Delete(':alias')
  @Access('write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an alias' })
  @ApiNoContentResponse()
  async delete(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.models.deleteAlias(name, alias, actor);
  }
}
