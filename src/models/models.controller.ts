import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Access, CurrentActor } from '../auth/access.decorator';
import type { Actor } from '../auth/roles';
import type { FastifyReply } from 'fastify';
import { mapPage, PaginationQuery } from '../common/pagination';
import { ModelEventPageResponse } from './dto/model-event.dto';
import {
  CreateModelRequest,
  ModelListQuery,
  ModelPageResponse,
  ModelResponse,
  UpdateModelRequest,
} from './dto/model.dto';
import { toModelEventResponse, toModelResponse } from './models.mapper';
import { ModelsService } from './models.service';
import { parseTagFilter } from './registry-queries';

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Post()
  @Access('write')
  @ApiOperation({
    summary: 'Register a model name (training and import also create it when missing)',
  })
  @ApiCreatedResponse({ type: ModelResponse })
  @ApiConflictResponse({ description: 'A model with this name exists.' })
  async create(
    @Body() { name, ...changes }: CreateModelRequest,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelResponse> {
    const summary = await this.models.createModel(name, changes, actor);
    reply.header('location', `/v1/models/${name}`);
    return toModelResponse(summary);
  }

  @Get()
  @Access('metadata')
  @ApiOperation({
    summary: 'List models with their latest version, aliases and last change',
    description:
      'Filter by name prefix and tag; sort by name, createdAt or updatedAt (`-` for descending).',
  })
  @ApiOkResponse({ type: ModelPageResponse })
  async list(@Query() query: ModelListQuery): Promise<ModelPageResponse> {
    const filter = { prefix: query.prefix, tag: parseTagFilter(query.tag), sort: query.sort };
    return mapPage(
      await this.models.listModels(filter, query.limit, query.offset),
      toModelResponse,
    );
  }

  @Get(':name')
  @Access('metadata')
  @ApiOperation({ summary: 'Get a model' })
  @ApiOkResponse({ type: ModelResponse })
  @ApiNotFoundResponse()
  async get(@Param('name') name: string): Promise<ModelResponse> {
    return toModelResponse(await this.models.getModel(name));
  }

  @Patch(':name')
  @Access('write')
  @ApiOperation({ summary: "Edit a model's description or tags" })
  @ApiOkResponse({ type: ModelResponse })
  async update(
    @Param('name') name: string,
    @Body() body: UpdateModelRequest,
  ): Promise<ModelResponse> {
    return toModelResponse(await this.models.updateModel(name, body));
  }

  @Delete(':name')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a model with its versions, aliases and events',
    description: 'Refused (409) while any alias exists: delete or move the aliases first.',
  })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'An alias still points at one of its versions.' })
  async delete(@Param('name') name: string): Promise<void> {
    await this.models.deleteModel(name);
  }

  @Get(':name/events')
  @Access('read')
  @ApiOperation({ summary: "The model's audit trail, newest first" })
  @ApiOkResponse({ type: ModelEventPageResponse })
  async events(
    @Param('name') name: string,
    @Query() page: PaginationQuery,
  ): Promise<ModelEventPageResponse> {
    return mapPage(
      await this.models.listEvents(name, page.limit, page.offset),
      toModelEventResponse,
    );
  }
}
