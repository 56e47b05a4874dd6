import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiBody,
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
    summary: 'Point an alias at a version: promote, roll back, canary or shadow',
    description:
      'The next prediction request after this response is served by the new version. ' +
      '`production` is what `POST /v1/models/{name}/predict` serves by default. ' +
      'A protected alias (`"protected": true`, set by an admin) is moved or deleted by admins only. ' +
      '`canary` { version, weight } answers that share of the requests (random per request, or ' +
      'sticky per `X-Routing-Key`); `shadow` { version, fraction } also runs on that share, after ' +
      'the answer, compared but never sent. The PUT sets the whole alias: a canary or shadow left ' +
      'out stops. Both must take the same inputs as the version (400 otherwise).',
  })
  @ApiBody({
    type: SetAliasRequest,
    examples: {
      move: { summary: 'Promote or roll back', value: { version: 1 } },
      canary: {
        summary: 'A canary: version 2 answers 10% of the requests',
        value: { version: 1, canary: { version: 2, weight: 0.1 } },
      },
      shadow: {
        summary: 'A shadow: version 2 also runs on half the requests, compared',
        value: { version: 1, shadow: { version: 2, fraction: 0.5 } },
      },
    },
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
      await this.models.setAlias(name, alias, body.version, actor, body.protected, {
        canary: body.canary,
        shadow: body.shadow,
      }),
    );
  }

  @Post(':alias/canary/promote')
  @Access('write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Promote the canary: it becomes the alias version and answers everything',
    description: 'Recorded as a `canary_promoted` event. Roll back with PUT, as for any move.',
  })
  @ApiOkResponse({ type: AliasResponse })
  @ApiNotFoundResponse({ description: 'No such model or alias, or the alias has no canary.' })
  async promoteCanary(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @CurrentActor() actor: Actor,
  ): Promise<AliasResponse> {
    return toAliasResponse(name, await this.models.promoteCanary(name, alias, actor));
  }

  @Delete(':alias/canary')
  @Access('write')
  @ApiOperation({
    summary: 'Abort the canary: the alias version answers everything again',
    description: 'Recorded as a `canary_aborted` event. Answers the alias as it now is.',
  })
  @ApiOkResponse({ type: AliasResponse })
  @ApiNotFoundResponse({ description: 'No such model or alias, or the alias has no canary.' })
  async abortCanary(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @CurrentActor() actor: Actor,
  ): Promise<AliasResponse> {
    return toAliasResponse(name, await this.models.abortCanary(name, alias, actor));
  }

  @Delete(':alias/shadow')
  @Access('write')
  @ApiOperation({
    summary: 'Stop shadowing',
    description: 'Recorded as a `shadow_removed` event. Answers the alias as it now is.',
  })
  @ApiOkResponse({ type: AliasResponse })
  @ApiNotFoundResponse({ description: 'No such model or alias, or the alias has no shadow.' })
  async removeShadow(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @CurrentActor() actor: Actor,
  ): Promise<AliasResponse> {
    return toAliasResponse(name, await this.models.removeShadow(name, alias, actor));
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
