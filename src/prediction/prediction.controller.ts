import { Body, Controller, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { RouteSchema } from '@nestjs/platform-fastify';
import { ApiBody, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  PREDICT_ROUTE_SCHEMA,
  PredictBody,
  PredictRequest,
  PredictResponse,
} from './dto/predict.dto';
import { PredictionService } from './prediction.service';

@ApiTags('prediction')
@Controller('v1/models')
export class PredictionController {
  constructor(private readonly prediction: PredictionService) {}

  @Post(':name/predict')
  @HttpCode(200)
  @RouteSchema(PREDICT_ROUTE_SCHEMA)
  @ApiOperation({
    summary: 'Predict with a model',
    description:
      'Serves alias `production` if set, else the latest ready version; `?version=N` or `?alias=A` picks another. ' +
      'The X-Model-Version header names the version that answered.',
  })
  @ApiBody({ type: PredictRequest })
  @ApiQuery({ name: 'version', required: false, type: Number })
  @ApiQuery({ name: 'alias', required: false, type: String })
  @ApiOkResponse({ type: PredictResponse })
  async predict(
    @Param('name') name: string,
    @Query() query: { version?: number; alias?: string },
    @Body() body: PredictBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PredictResponse> {
    const result = await this.prediction.predict(name, query, body.instances);
    reply.header('x-model-version', String(result.version));
    return result;
  }
}
