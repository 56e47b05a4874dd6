import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Put,
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
import type { FastifyReply } from 'fastify';
import { mapPage, PaginationQuery } from '../common/pagination';
import {
  AliasResponse,
  CreateModelRequest,
  ModelEventPageResponse,
  ModelPageResponse,
  ModelResponse,
  ModelVersionPageResponse,
  ModelVersionResponse,
  SetAliasRequest,
} from './dto/model.dto';
import {
  toAliasResponse,
  toModelEventResponse,
  toModelResponse,
  toModelVersionResponse,
} from './models.mapper';
import { ModelsService } from './models.service';

const versionPipe = new ParseIntPipe({ errorHttpStatusCode: 400 });

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Post()
  @ApiOperation({ summary: 'Register a model name (training creates it when missing)' })
  @ApiCreatedResponse({ type: ModelResponse })
  @ApiConflictResponse({ description: 'A model with this name exists.' })
  async create(@Body() body: CreateModelRequest): Promise<ModelResponse> {
    return toModelResponse(await this.models.createModel(body));
  }

  @Get()
  @ApiOperation({ summary: 'List models by name, with their latest version and aliases' })
  @ApiOkResponse({ type: ModelPageResponse })
  async list(@Query() page: PaginationQuery): Promise<ModelPageResponse> {
    return mapPage(await this.models.listModels(page.limit, page.offset), toModelResponse);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a model' })
  @ApiOkResponse({ type: ModelResponse })
  @ApiNotFoundResponse()
  async get(@Param('name') name: string): Promise<ModelResponse> {
    return toModelResponse(await this.models.getModel(name));
  }

  @Get(':name/versions')
  @ApiOperation({ summary: 'List versions, newest first, with lineage and metrics' })
  @ApiOkResponse({ type: ModelVersionPageResponse })
  async versions(
    @Param('name') name: string,
    @Query() page: PaginationQuery,
  ): Promise<ModelVersionPageResponse> {
    return mapPage(
      await this.models.listVersions(name, page.limit, page.offset),
      toModelVersionResponse,
    );
  }

  @Get(':name/versions/:version')
  @ApiOperation({ summary: 'Get one version' })
  @ApiOkResponse({ type: ModelVersionResponse })
  @ApiNotFoundResponse()
  async version(
    @Param('name') name: string,
    @Param('version', versionPipe) version: number,
  ): Promise<ModelVersionResponse> {
    return toModelVersionResponse(await this.models.getVersion(name, version));
  }

  @Get(':name/versions/:version/artifact')
  @ApiOperation({
    summary: 'Download the model artifact (JSON), exactly as stored; ETag is its sha256',
  })
  @ApiOkResponse({ description: 'The artifact document.' })
  @Header('Cache-Control', 'private, max-age=0, must-revalidate')
  async artifact(
    @Param('name') name: string,
    @Param('version', versionPipe) version: number,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { artifact, checksum } = await this.models.getArtifact(name, version);
    await reply
      .header('content-type', 'application/json')
      .header('etag', `"${checksum}"`)
      .header('content-disposition', `attachment; filename="${name}-v${version}.json"`)
      .send(artifact);
  }

  @Put(':name/aliases/:alias')
  @ApiOperation({
    summary: 'Point an alias at a version (promote or roll back); the next request uses it',
  })
  @ApiOkResponse({ type: AliasResponse })
  async setAlias(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Body() body: SetAliasRequest,
  ): Promise<AliasResponse> {
    return toAliasResponse(name, await this.models.setAlias(name, alias, body.version));
  }

  @Get(':name/aliases/:alias')
  @ApiOperation({ summary: 'Which version an alias points at' })
  @ApiOkResponse({ type: AliasResponse })
  async getAlias(
    @Param('name') name: string,
    @Param('alias') alias: string,
  ): Promise<AliasResponse> {
    return toAliasResponse(name, await this.models.getAlias(name, alias));
  }

  @Delete(':name/aliases/:alias')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an alias' })
  @ApiNoContentResponse()
  async deleteAlias(@Param('name') name: string, @Param('alias') alias: string): Promise<void> {
    await this.models.deleteAlias(name, alias);
  }

  @Get(':name/events')
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
