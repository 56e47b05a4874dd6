import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Access, CurrentActor } from '../auth/access.decorator';
import type { Actor } from '../auth/roles';
import { ModelVersionResponse } from '../models/dto/model-version.dto';
import { toModelVersionResponse } from '../models/models.mapper';
import { VersionParam } from '../models/version-number';
import { toDriftResponse } from './drift.mapper';
import { DriftService, driftWindow } from './drift.service';
import { DriftQuery, DriftResponse, SetReferenceRequest } from './dto/drift.dto';

@ApiTags('models')
@Controller('v1/models/:name/versions')
export class DriftController {
  constructor(private readonly drift: DriftService) {}

  @Put(':version/reference')
  @Access('write')
  @ApiOperation({
    summary: "Set a version's reference from a dataset (what drift compares live inputs with)",
    description:
      'Profiles the dataset (an id, or the newest dataset of that name) over its rows: decile bins of each ' +
      'numeric feature, category counts of each string feature, missing rates, a sample of up to 10,000 ' +
      "values per numeric feature for KS, and the version's predictions on those rows (not for ONNX " +
      "versions). The dataset must hold the version's features; other columns are ignored; at most " +
      '1,000,000 rows (422 beyond). Versions trained here already have their training split as ' +
      'reference; this replaces it. Recorded as a `reference_set` event.',
  })
  @ApiOkResponse({ type: ModelVersionResponse })
  @ApiBadRequestResponse({
    description: "Unknown dataset, or one without the version's features (errors name them).",
  })
  @ApiUnprocessableEntityResponse({ description: 'The dataset has more than 1,000,000 rows.' })
  @ApiNotFoundResponse({ description: 'No such model or version.' })
  async setReference(
    @Param('name') name: string,
    @VersionParam() version: number,
    @Body() body: SetReferenceRequest,
    @CurrentActor() actor: Actor,
  ): Promise<ModelVersionResponse> {
    return toModelVersionResponse(
      await this.drift.setReference(name, version, body.dataset, actor),
    );
  }

  @Get(':version/drift')
  @Access('metadata')
  @ApiOperation({
    summary: "Compare a version's logged inputs and outputs in a window with its reference",
    description:
      'Reads the prediction log of the version between `from` (default: 24 hours before `to`) and `to` ' +
      '(default: now), the newest 100,000 rows at most, and rates each feature: PSI over the ' +
      "reference's bins (≥ 0.1 warning, ≥ 0.25 drift), with KS and Wasserstein for numbers and " +
      'Jensen–Shannon for strings. A feature with too few live values is not rated (`rated: false`, ' +
      'status ok). 404 when the version has no reference: create one with PUT …/reference.',
  })
  @ApiOkResponse({ type: DriftResponse })
  @ApiBadRequestResponse({ description: 'from or to is not an ISO 8601 time, or from ≥ to.' })
  @ApiNotFoundResponse({
    description: 'No such model or version, or the version has no reference.',
  })
  async get(
    @Param('name') name: string,
    @VersionParam() version: number,
    @Query() query: DriftQuery,
  ): Promise<DriftResponse> {
    const window = driftWindow(query.from, query.to, new Date());
    return toDriftResponse(await this.drift.drift(name, version, window));
  }
}
