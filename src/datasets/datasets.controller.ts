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
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mapPage, PaginationQuery } from '../common/pagination';
import { RoutePolicy } from '../common/route-policy';
import { CsvBody, DatasetForm, formUpload, JsonBody } from './dataset-uploads';
import { DatasetsService } from './datasets.service';
import { toDatasetResponse } from './datasets.mapper';
import {
  CreateDatasetQuery,
  CreateDatasetRequest,
  DatasetPageResponse,
  DatasetResponse,
  DatasetRowsResponse,
  SALES_DATASET_EXAMPLE,
  SALES_RECORDS_EXAMPLE,
} from './dto/dataset.dto';

@ApiTags('datasets')
@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @Access('write')
  @RoutePolicy('dataset-upload')
  @ApiOperation({
    summary: 'Upload a dataset',
    description:
      'JSON `{ name, columns, rows }` or `{ name, records }`; a CSV file (`Content-Type: text/csv` or `text/plain`, ' +
      'header row first) with `?name=`; or a multipart form whose `file` part holds the CSV or JSON ' +
      '(`curl -F file=@data.csv`), named by `?name=`, a `name` field, or else the file name. ' +
      'Column types (number/string) are inferred; a CSV or JSON body is parsed as it arrives, in a background thread, and the table stored in columnar form.',
  })
  @ApiConsumes('application/json', 'text/csv', 'multipart/form-data')
  @ApiBody({
    type: CreateDatasetRequest,
    examples: {
      columnsAndRows: { summary: 'Columns and rows', value: SALES_DATASET_EXAMPLE },
      records: { summary: 'Records', value: SALES_RECORDS_EXAMPLE },
    },
  })
  @ApiCreatedResponse({ type: DatasetResponse })
  async create(
    @Body() body: unknown,
    @Query() query: CreateDatasetQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DatasetResponse> {
    const dataset = await this.datasets.create(
      body instanceof DatasetForm
        ? await formUpload(body, query.name, request)
        : body instanceof CsvBody || body instanceof JsonBody
          ? body.upload(query.name)
          : {
              kind: 'json',
              body: query.name && isObject(body) ? { name: query.name, ...body } : body,
            },
    );
    reply.header('location', `/v1/datasets/${dataset.id}`);
    return toDatasetResponse(dataset);
  }

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'List datasets, newest first' })
  @ApiOkResponse({ type: DatasetPageResponse })
  async list(@Query() page: PaginationQuery): Promise<DatasetPageResponse> {
    return mapPage(await this.datasets.list(page.limit, page.offset), toDatasetResponse);
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({ summary: 'Get a dataset' })
  @ApiOkResponse({ type: DatasetResponse })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<DatasetResponse> {
    return toDatasetResponse(await this.datasets.get(id));
  }

  @Get(':id/rows')
  @Access('read')
  @ApiOperation({ summary: 'Preview rows of a dataset' })
  @ApiOkResponse({ type: DatasetRowsResponse })
  rows(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() page: PaginationQuery,
  ): Promise<DatasetRowsResponse> {
    return this.datasets.rows(id, page.limit, page.offset);
  }

  @Delete(':id')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a dataset (409 while a queued or running job uses it)' })
  @ApiNoContentResponse()
  async delete(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.datasets.delete(id);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
