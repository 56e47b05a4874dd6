import { ApiProperty } from '@nestjs/swagger';

class DifferenceBody {
  @ApiProperty({ example: 0.012 })
  meanAbsolute: number;

  @ApiProperty({ example: 0.4 })
  maxAbsolute: number;

  @ApiProperty({ example: 0.003 })
  meanRelative: number;
}

class ProbabilityDifferenceBody {
  @ApiProperty({ example: 0.02 })
  meanAbsolute: number;

  @ApiProperty({ example: 0.31 })
  maxAbsolute: number;
}

class LatencyFiguresBody {
  @ApiProperty({ example: 0.05, nullable: true, type: Number })
  mean: number | null;

  @ApiProperty({ example: 0.2, nullable: true, type: Number })
  p99: number | null;
}

class LatencyBody {
  @ApiProperty({ type: LatencyFiguresBody })
  primary: LatencyFiguresBody;

  @ApiProperty({ type: LatencyFiguresBody })
  shadow: LatencyFiguresBody;
}

/** `GET /v1/models/{name}/aliases/{alias}/shadow`: how the shadow's answers compare so far. */
export class ShadowSummaryResponse {
  @ApiProperty({ example: 'iris' })
  model: string;

  @ApiProperty({ example: 'production' })
  alias: string;

  @ApiProperty({
    example: 3,
    description:
      "The alias's version these figures compare with the shadow; the figures start again when the alias moves.",
  })
  version: number;

  @ApiProperty({ example: 5, description: 'The shadow version compared.' })
  shadowVersion: number;

  @ApiProperty({ example: 0.5, nullable: true, type: Number })
  fraction: number | null;

  @ApiProperty({ example: true, description: 'Whether the alias still has this shadow.' })
  active: boolean;

  @ApiProperty({
    format: 'date-time',
    example: '2026-12-03T17:39:20.599Z',
    description: 'Since when this replica compares.',
  })
  since: string;

  @ApiProperty({ example: 812, description: 'Requests compared.' })
  count: number;

  @ApiProperty({ example: 0, description: 'Shadow runs that failed (never seen by clients).' })
  errors: number;

  @ApiProperty({ example: 0, description: 'Mirrored requests dropped: the queue was full.' })
  dropped: number;

  @ApiProperty({ example: 0, description: 'Answers that could not be compared (other outputs).' })
  mismatched: number;

  @ApiProperty({
    example: 0.97,
    nullable: true,
    type: Number,
    description: 'Fraction of rows with the same label (classifiers, integer and string outputs).',
  })
  agreement: number | null;

  @ApiProperty({ type: DifferenceBody, nullable: true, description: 'Numeric outputs.' })
  difference: DifferenceBody | null;

  @ApiProperty({ type: ProbabilityDifferenceBody, nullable: true })
  probabilityDifference: ProbabilityDifferenceBody | null;

  @ApiProperty({ type: LatencyBody, description: 'Milliseconds to compute each answer.' })
  latencyMs: LatencyBody;
}
