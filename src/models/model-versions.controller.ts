import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Access, CurrentActor } from '../auth/access.decorator';
import type { Actor } from '../auth/roles';
import type { FastifyReply } from 'fastify';
import { mapPage } from '../common/pagination';
import {
  ARTIFACT_EXAMPLE,
  ArtifactQuery,
  ImportVersionQuery,
  ImportVersionRequest,
  ModelVersionPageResponse,
  ModelVersionResponse,
  UpdateVersionRequest,
  VersionListQuery,
} from './dto/model-version.dto';
import { artifactDownload } from './artifact-downloads';
import { ImportBody, ImportBodyPipe, importOptions } from './import-body.pipe';
import { toModelVersionResponse, toModelVersionSummaryResponse } from './models.mapper';
import { ModelsService } from './models.service';
import { OnnxImportsService } from './onnx-imports.service';
import { RoutePolicy } from '../common/route-policy';
import { parseVersionSort } from './registry-queries';
import { VersionParam } from './version-number';

@ApiTags('models')
@Controller('v1/models/:name/versions')
export class ModelVersionsController {
  constructor(
    private readonly models: ModelsService,
    private readonly onnxImports: OnnxImportsService,
  ) {}

  @Post()
  @Access('write')
  @RoutePolicy('model-upload')
  @ApiOperation({
    summary:
      'Register an externally trained model (ONNX, or our JSON artifact) as the next version',
    description:
      'An ONNX model: the `.onnx` file as `application/octet-stream` (`curl --data-binary @model.onnx`) ' +
      'or as the `file` part of a multipart form (`curl -F file=@model.onnx`), up to MODEL_BODY_LIMIT_BYTES. ' +
      'It is registered once onnxruntime has loaded it; its inputs and outputs (names, datatypes, shapes) ' +
      'come from the graph. Query: `classes` and `features` (comma-separated) for v1 predictions, ' +
      '`maxBatchSize` and `maxQueueDelayMicros` to batch concurrent requests. ' +
      'A JSON artifact: as downloaded from `GET …/versions/{version}/artifact`, or `{ "artifact": …, "alias": … }`; ' +
      'errors name the bad field. Alias, description and tags go in the query string (in the body for the ' +
      'wrapped form). The model is created when it does not exist.',
  })
  @ApiConsumes('application/json', 'application/octet-stream', 'multipart/form-data')
  @ApiExtraModels(ImportVersionRequest)
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'object', title: 'The artifact as downloaded', example: ARTIFACT_EXAMPLE },
        { $ref: getSchemaPath(ImportVersionRequest) },
      ],
    },
    examples: {
      asDownloaded: { summary: 'The artifact as downloaded', value: ARTIFACT_EXAMPLE },
      wrapped: {
        summary: 'Wrapped, with an alias',
        value: { artifact: ARTIFACT_EXAMPLE, alias: 'staging' },
      },
    },
  })
  @ApiCreatedResponse({ type: ModelVersionResponse })
  async import(
    @Param('name') name: string,
    @Body(ImportBodyPipe) body: ImportBody,
    @Query() query: ImportVersionQuery,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelVersionResponse> {
    const options = importOptions(body, query);
    const created = body.file
      ? await this.onnxImports.register(name, body.file, options, actor)
      : await this.models.importVersion(name, body.artifact, options, actor);
    reply.header('location', `/v1/models/${name}/versions/${created.version.version}`);
    return toModelVersionResponse(created);
  }

  @Get()
  @Access('metadata')
  @ApiOperation({
    summary: 'List versions with lineage and metrics',
    description:
      'Newest first by default. Find the best version by a metric with e.g. `?sort=-metric:validation.r2`. ' +
      'Each item sums up its loss history (`lossPoints`, `finalLoss`); `GET …/versions/{version}` has all of it.',
  })
  @ApiOkResponse({ type: ModelVersionPageResponse })
  async list(
    @Param('name') name: string,
    @Query() query: VersionListQuery,
  ): Promise<ModelVersionPageResponse> {
    const filter = { status: query.status, sort: parseVersionSort(query.sort) };
    return mapPage(
      await this.models.listVersions(name, filter, query.limit, query.offset),
      toModelVersionSummaryResponse,
    );
  }

  @Get(':version')
  @Access('metadata')
  @ApiOperation({ summary: 'Get one version, with its full loss history' })
  @ApiOkResponse({ type: ModelVersionResponse })
  @ApiNotFoundResponse()
  async get(
    @Param('name') name: string,
    @VersionParam() version: number,
  ): Promise<ModelVersionResponse> {
    return toModelVersionResponse(await this.models.getVersion(name, version));
  }

  @Patch(':version')
  @Access('write')
  @ApiOperation({
    summary: 'Edit description and tags, or archive/restore a version',
    description:
      '`{"status":"archived"}` stops the version serving and keeps its lineage; refused (409) while an alias ' +
      'points at it. `{"status":"ready"}` restores it.',
  })
  @ApiOkResponse({ type: ModelVersionResponse })
  @ApiConflictResponse({ description: 'An alias points at the version.' })
  async update(
    @Param('name') name: string,
    @VersionParam() version: number,
    @Body() body: UpdateVersionRequest,
    @CurrentActor() actor: Actor,
  ): Promise<ModelVersionResponse> {
    return toModelVersionResponse(await this.models.updateVersion(name, version, body, actor));
  }

  @Delete(':version')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a version (409 while an alias points at it); its number is never reused',
  })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'An alias points at the version.' })
  async delete(
    @Param('name') name: string,
    @VersionParam() version: number,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.models.deleteVersion(name, version, actor);
  }

  @Get(':version/artifact')
  @Access('read')
  @ApiOperation({
    summary: 'Download the model artifact exactly as stored, or as ONNX; ETag is its sha256',
    description:
      'As stored (JSON for versions trained here, the .onnx file for ONNX versions): posting it as it is to ' +
      'POST /v1/models/{name}/versions imports it again, same checksum, same predictions. ' +
      '`?format=onnx` exports a version trained here as an ONNX graph with its preprocessing, for Triton, ' +
      'KServe or any ONNX runtime: input `input` DOUBLE [N, features] (one [N, 1] input per feature when ' +
      'a feature is a string), outputs `predict` and, for classifiers, `predict_proba`.',
  })
  @ApiOkResponse({ description: 'The artifact.' })
  @Header('Cache-Control', 'private, max-age=0, must-revalidate')
  async artifact(
    @Param('name') name: string,
    @VersionParam() version: number,
    @Query() query: ArtifactQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const stored = await this.models.getArtifact(name, version);
    const file = artifactDownload(stored, query.format ?? 'stored', { name, version });
    await reply
      .header('content-type', file.contentType)
      .header('etag', `"${file.checksum}"`)
      .header('content-disposition', `attachment; filename="${name}-v${version}.${file.extension}"`)
      .send(file.content);
  }
}
