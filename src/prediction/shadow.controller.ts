import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { NotFoundError } from '../common/errors';
import { ModelsService } from '../models/models.service';
import { ShadowSummaryResponse } from './dto/shadow.dto';
import { ShadowTrafficService } from './shadow-traffic.service';

@ApiTags('models')
@Controller('v1/models/:name/aliases/:alias/shadow')
export class ShadowController {
  constructor(
    private readonly models: ModelsService,
    private readonly shadows: ShadowTrafficService,
  ) {}

  @Get()
  @Access('metadata')
  @ApiOperation({
    summary: "How an alias's shadow compares with the answers it sent",
    description:
      'Counts, label agreement, numeric and probability differences, failures and compute times ' +
      'since the shadow was set, as this replica saw them (`/metrics` adds up every replica).',
  })
  @ApiOkResponse({ type: ShadowSummaryResponse })
  @ApiNotFoundResponse({ description: 'No such model or alias, or it never had a shadow here.' })
  async summary(
    @Param('name') name: string,
    @Param('alias') alias: string,
  ): Promise<ShadowSummaryResponse> {
    const row = await this.models.getAlias(name, alias);
    const active = row.shadowVersion !== null;
    const tally = this.shadows.summary(name, alias);
    const current =
      tally?.primaryVersion === row.version && tally.shadowVersion === row.shadowVersion;
    // The running tally; or, once the shadow is gone, the last one (inactive). A tally of an
    // earlier pair of versions is not this shadow's: it starts again at 0.
    if (tally && (current || !active)) {
      const { model, alias: _alias, primaryVersion, shadowVersion, ...figures } = tally;
      const fraction = current ? row.shadowFraction : null;
      return {
        model,
        alias,
        version: primaryVersion,
        shadowVersion,
        fraction,
        active: current,
        ...figures,
      };
    }
    if (!active) {
      throw new NotFoundError(
        `Alias ${alias} of ${name} has no shadow. Set one with PUT /v1/models/${name}/aliases/${alias} ` +
          `{ "version": ${row.version}, "shadow": { "version": N, "fraction": 0.5 } }.`,
      );
    }
    // Set, but no mirrored request has reached this replica yet.
    return {
      model: name,
      alias,
      version: row.version,
      shadowVersion: row.shadowVersion as number,
      fraction: row.shadowFraction,
      active,
      since: row.updatedAt.toISOString(),
      count: 0,
      errors: 0,
      dropped: 0,
      mismatched: 0,
      agreement: null,
      difference: null,
      probabilityDifference: null,
      latencyMs: { primary: { mean: null, p99: null }, shadow: { mean: null, p99: null } },
    };
  }
}
