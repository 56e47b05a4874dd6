import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Access, CurrentActor } from '../auth/access.decorator';
import { ReadinessService } from '../health/readiness.service';
import type { Actor } from '../auth/roles';
import type { FastifyReply } from 'fastify';
import { mapPage } from '../common/pagination';
import {
  CreateTrainingJobRequest,
  JobEventsQuery,
  TrainingJobPageResponse,
  TrainingJobQuery,
  TrainingJobResponse,
} from './dto/training-job.dto';
import { appConfig, AppConfig } from '../config/app.config';
import { streamJobEvents } from './job-event-stream';
import { toTrainingJobResponse } from './training.mapper';
import { TrainingService } from './training.service';

@ApiTags('training')
@Controller('v1/training-jobs')
export class TrainingJobsController {
  constructor(
    private readonly training: TrainingService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly readiness: ReadinessService,
  ) {}

  @Post()
  @Access('write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a training job',
    description:
      'Validates the request against the dataset and queues the job; poll the Location for status, progress and ' +
      'loss history. On success the job registers the next version of the model (and moves `alias` if given).',
  })
  @ApiAcceptedResponse({ type: TrainingJobResponse })
  async create(
    @Body() body: CreateTrainingJobRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentActor() actor: Actor,
  ): Promise<TrainingJobResponse> {
    const job = await this.training.create(body, actor);
    reply.header('location', `/v1/training-jobs/${job.id}`);
    return toTrainingJobResponse(job);
  }

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'List training jobs, newest first' })
  @ApiOkResponse({ type: TrainingJobPageResponse })
  async list(@Query() query: TrainingJobQuery): Promise<TrainingJobPageResponse> {
    return mapPage(
      await this.training.list(query, query.limit, query.offset),
      toTrainingJobResponse,
    );
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({ summary: 'Get a training job' })
  @ApiOkResponse({ type: TrainingJobResponse })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<TrainingJobResponse> {
    return toTrainingJobResponse(await this.training.get(id));
  }

  @Get(':id/events')
  @Access('read')
  @ApiOperation({
    summary: "Stream a job's progress as Server-Sent Events",
    description:
      '`event: progress` with `{ status, progress, epochs, loss }` (`epochs`: the loss points recorded so far) ' +
      'whenever they change, with `lossHistory` too when `?include=lossHistory`; then `event: done` ' +
      'with the whole job, after which the stream ends. `curl -N` shows it live.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream.' })
  async events(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: JobEventsQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.training.get(id);
    await streamJobEvents(reply, () => this.training.get(id), {
      withLossHistory: query.include === 'lossHistory',
      pollIntervalMs: this.config.training.progressWriteIntervalMs,
      // A shutdown ends streams at once rather than wait out the grace period; clients reconnect.
      shouldEnd: () => this.readiness.isShuttingDown,
    });
  }

  @Post(':id/cancel')
  @Access('write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a queued or running job; it registers no version' })
  @ApiOkResponse({ type: TrainingJobResponse })
  @ApiConflictResponse({ description: 'The job already finished.' })
  async cancel(@Param('id', ParseUUIDPipe) id: string): Promise<TrainingJobResponse> {
    return toTrainingJobResponse(await this.training.cancel(id));
  }
}
