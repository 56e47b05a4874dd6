import { Controller, Get, Param, Res, UseFilters } from '@nestjs/common';
import {
  ApiDefaultResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import type { FastifyReply } from 'fastify';
import { RoutePolicy } from '../common/route-policy';
import { SERVICE_NAME, SERVICE_VERSION } from '../common/service-info';
import { ReadinessService } from '../health/readiness.service';
import { ModelUnavailableError } from '../common/errors';
import type { VersionSelector } from '../models/serving-versions.service';
import { parseVersion } from '../models/version-number';
import {
  InferenceErrorBody,
  ModelMetadataBody,
  ModelReadyBody,
  ServerLiveBody,
  ServerMetadataBody,
  ServerReadyBody,
} from './dto/inference.dto';
import { OpenInferenceExceptionFilter } from './open-inference.filter';
import { PredictionService } from './prediction.service';

/**
 * The Open Inference Protocol's (KServe V2) health and metadata endpoints, for KServe and Triton
 * clients; inference itself is on the hot path (`serving.routes.ts`).
 */
@ApiTags('open-inference')
@Controller('v2')
@RoutePolicy('open-inference')
@UseFilters(OpenInferenceExceptionFilter)
@ApiDefaultResponse({ type: InferenceErrorBody, description: 'An error, as the protocol has it.' })
export class OpenInferenceController {
  constructor(
    private readonly prediction: PredictionService,
    private readonly readiness: ReadinessService,
  ) {}

  @Get()
  @Access('metadata')
  @ApiOperation({ summary: 'Server metadata' })
  @ApiOkResponse({ type: ServerMetadataBody })
  serverMetadata(): ServerMetadataBody {
    return { name: SERVICE_NAME, version: SERVICE_VERSION, extensions: [] };
  }

  @Get('health/live')
  @RoutePolicy('inference-probe')
  @ApiOperation({ summary: 'Server live: 200 while the process can serve' })
  @ApiOkResponse({ type: ServerLiveBody })
  live(): ServerLiveBody {
    return { live: true };
  }

  @Get('health/ready')
  @RoutePolicy('inference-probe')
  @ApiOperation({ summary: 'Server ready: the database answers and every migration is applied' })
  @ApiOkResponse({ type: ServerReadyBody })
  @ApiServiceUnavailableResponse({ type: InferenceErrorBody })
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServerReadyBody | InferenceErrorBody> {
    try {
      await this.readiness.check();
      return { ready: true };
    } catch {
      reply.status(503);
      return {
        error: 'Not ready: the database or its migrations are not available (see /health/ready).',
      };
    }
  }

  @Get('models/:name')
  @Access('metadata')
  @ApiOperation({ summary: 'Model metadata of the version served by default' })
  @ApiOkResponse({ type: ModelMetadataBody })
  modelMetadata(@Param('name') name: string): Promise<ModelMetadataBody> {
    return this.prediction.modelMetadata(name);
  }

  @Get('models/:name/versions/:version')
  @Access('metadata')
  @ApiOperation({ summary: 'Model metadata of one version' })
  @ApiOkResponse({ type: ModelMetadataBody })
  versionMetadata(
    @Param('name') name: string,
    @Param('version') version: string,
  ): Promise<ModelMetadataBody> {
    return this.prediction.modelMetadata(name, parseVersion(version, 'version'));
  }

  @Get('models/:name/ready')
  @Access('metadata')
  @ApiOperation({
    summary: 'Model ready: the version served by default is loaded (this loads it if needed)',
  })
  @ApiOkResponse({ type: ModelReadyBody })
  async modelReady(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelReadyBody> {
    return this.modelReadiness(name, {}, reply);
  }

  @Get('models/:name/versions/:version/ready')
  @Access('metadata')
  @ApiOperation({ summary: 'Model ready: this version is loaded (this loads it if needed)' })
  @ApiOkResponse({ type: ModelReadyBody })
  async versionReady(
    @Param('name') name: string,
    @Param('version') version: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelReadyBody> {
    return this.modelReadiness(name, { version: parseVersion(version, 'version') }, reply);
  }

  /** Ready once loaded; a version that fails to load is `ready: false` with a 503, not an error. */
  private async modelReadiness(
    name: string,
    selector: VersionSelector,
    reply: FastifyReply,
  ): Promise<ModelReadyBody> {
    try {
      await this.prediction.select(name, selector);
      return { name, ready: true };
    } catch (error) {
      if (!(error instanceof ModelUnavailableError)) throw error;
      reply.status(503);
      return { name, ready: false };
    }
  }
}
