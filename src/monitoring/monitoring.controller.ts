import { Body, Controller, Get, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Access, CurrentActor } from '../auth/access.decorator';
import type { Actor } from '../auth/roles';
import { mapPage } from '../common/pagination';
import { MonitoringSettingsResponse, SetMonitoringRequest } from './dto/monitoring-settings.dto';
import { PredictionLogPageResponse, PredictionLogQuery } from './dto/prediction-log.dto';
import { MonitoringSettingsService } from './monitoring-settings.service';
import {
  CSV_HEADER,
  toCsvRow,
  toJsonLine,
  toPredictionLogEntryResponse,
} from './prediction-log.mapper';
import { PredictionLogService } from './prediction-log.service';

const EXPORTS = {
  jsonl: { contentType: 'application/x-ndjson; charset=utf-8', header: '', line: toJsonLine },
  csv: {
    contentType: 'text/csv; charset=utf-8',
    header: CSV_HEADER,
    line: (_model: string, entry: Parameters<typeof toCsvRow>[0]) => toCsvRow(entry),
  },
} as const;

@ApiTags('monitoring')
@Controller('v1/models/:name')
export class MonitoringController {
  constructor(
    private readonly settings: MonitoringSettingsService,
    private readonly log: PredictionLogService,
  ) {}

  @Put('monitoring')
  @Access('write')
  @ApiOperation({
    summary: "Set how a model's predictions are logged: sample rate and retention",
    description:
      'The next requests after this response are drawn at the new rate, on every replica. ' +
      '`sampleRate` 0 turns the log off; `maxRows` and `maxAgeDays`, when left out, keep their value.',
  })
  @ApiOkResponse({ type: MonitoringSettingsResponse })
  @ApiNotFoundResponse({ description: 'No such model.' })
  @ApiBadRequestResponse({ description: 'A value out of range.' })
  async set(
    @Param('name') name: string,
    @Body() body: SetMonitoringRequest,
    @CurrentActor() actor: Actor,
  ): Promise<MonitoringSettingsResponse> {
    return this.settings.set(name, body, actor);
  }

  @Get('monitoring')
  @Access('metadata')
  @ApiOperation({ summary: "How a model's predictions are logged (the defaults until set)" })
  @ApiOkResponse({ type: MonitoringSettingsResponse })
  @ApiNotFoundResponse()
  async get(@Param('name') name: string): Promise<MonitoringSettingsResponse> {
    return this.settings.get(name);
  }

  @Get('predictions')
  // The log holds callers' inputs: the data, not metadata, so the role that reads datasets.
  @Access('read')
  @ApiOperation({
    summary: 'The prediction log: sampled requests and their answers, newest first',
    description:
      '`format=jsonl` or `format=csv` downloads every matching entry, streamed from the database; ' +
      'see docs/monitoring.md for what `inputs` and `outputs` hold.',
  })
  @ApiOkResponse({ type: PredictionLogPageResponse })
  @ApiProduces('application/json', 'application/x-ndjson', 'text/csv')
  @ApiNotFoundResponse()
  @ApiBadRequestResponse({ description: 'A bad version, time or format.' })
  async predictions(
    @Param('name') name: string,
    @Query() query: PredictionLogQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const filter = await this.log.filterFor(name, query);
    if (query.format === 'json') {
      const page = await this.log.list(filter, query.limit, query.offset);
      await reply.send(mapPage(page, (entry) => toPredictionLogEntryResponse(name, entry)));
      return;
    }
    const { contentType, header, line } = EXPORTS[query.format];
    const pages = this.log.export(filter);
    // A chunk per page: a write per line would cost more than reading the rows.
    async function* chunks() {
      if (header) yield header;
      for await (const page of pages) yield page.map((entry) => line(name, entry)).join('');
    }
    await reply
      .header('content-type', contentType)
      .header('content-disposition', `attachment; filename="${name}-predictions.${query.format}"`)
      .send(Readable.from(chunks()));
  }
}
