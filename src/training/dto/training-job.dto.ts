import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names';
import { IsTags } from '../../common/tags.validator';
import { PageOf, PaginationQuery } from '../../common/pagination';
import type { JsonObject } from '../../common/json';
import { Algorithm, ALGORITHMS, DEFAULT_VALIDATION_SPLIT, MAX_VALIDATION_SPLIT } from '../../ml';
import { JOB_STATUSES, JobStatus } from '../training-job.entity';

export class CreateTrainingJobRequest {
  /** The model to register the result under (created when missing). */
  @ApiProperty({ example: 'sales-forecast', pattern: NAME_PATTERN.source })
  @Matches(NAME_PATTERN, { message: `model ${NAME_RULE}` })
  model: string;

  /**
   * An uploaded dataset: its id, or its name for the newest dataset of that name. The job records
   * the id it resolved to.
   */
  @ApiProperty({ example: 'sales', pattern: NAME_PATTERN.source })
  @Matches(NAME_PATTERN, { message: `dataset must be a dataset id or name; a name ${NAME_RULE}` })
  dataset: string;

  /** The column to predict. */
  @ApiProperty({ example: 'y' })
  @IsString()
  @MaxLength(128)
  target: string;

  /** Feature columns; default: every column but the target. */
  @ApiPropertyOptional({ example: ['x1', 'x2'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsString({ each: true })
  features?: string[];

  @ApiProperty({ enum: ALGORITHMS, example: 'linear-regression' })
  @IsIn(ALGORITHMS as unknown as string[])
  algorithm: Algorithm;

  /**
   * Per algorithm; omitted ones take their defaults (the job shows the values used). All:
   * `optimizer`, `learningRate` (> 0), `epochs` (1..1,000,000; alias `maxEpochs`), `batchSize` (sgd/adam),
   * `l2` (>= 0, scikit-learn's alpha or 1/C), `patience` and `tolerance` (early stopping);
   * logistic-regression also `classWeight` (`none`, `balanced` or weights by label). See the README.
   */
  @ApiPropertyOptional({
    example: { optimizer: 'gradient-descent', learningRate: 0.05, epochs: 2000 },
  })
  @IsOptional()
  @IsObject()
  hyperparameters?: Record<string, unknown>;

  /** Fraction of rows held out to compute validation metrics. */
  @ApiPropertyOptional({
    example: 0.2,
    minimum: 0,
    maximum: MAX_VALIDATION_SPLIT,
    default: DEFAULT_VALIDATION_SPLIT,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(MAX_VALIDATION_SPLIT)
  validationSplit?: number;

  /** Seeds the train/validation split; the same request and seed give the same model. Default: random (recorded). */
  @ApiPropertyOptional({ example: 42, minimum: 0, maximum: 2147483647 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2147483647)
  seed?: number;

  /** Point this alias at the new version when the job succeeds. */
  @ApiPropertyOptional({ example: 'staging' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: `alias ${NAME_RULE}` })
  alias?: string;

  @ApiPropertyOptional({ example: 'baseline on all features' })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiPropertyOptional({ example: { team: 'growth' } })
  @IsOptional()
  @IsTags()
  tags?: Record<string, string>;
}

export class TrainingJobQuery extends PaginationQuery {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES as unknown as string[])
  status?: JobStatus;

  @ApiPropertyOptional({ example: 'sales-forecast' })
  @IsOptional()
  @IsString()
  model?: string;
}

export class JobEventsQuery {
  /**
   * `lossHistory`: each progress event also carries the loss curve recorded so far (at most 1,000
   * points), so a chart can follow the run from the stream alone.
   */
  @ApiPropertyOptional({ enum: ['lossHistory'] })
  @IsOptional()
  @IsIn(['lossHistory'])
  include?: 'lossHistory';
}

export class TrainingMetricsResponse {
  @ApiProperty({ example: { mse: 2.1, rmse: 1.45, mae: 1.1, r2: 0.97 } })
  train: JsonObject;

  @ApiProperty({ example: { mse: 2.4, rmse: 1.55, mae: 1.2, r2: 0.96 }, nullable: true })
  validation: JsonObject | null;
}

/** How a succeeded run went: "stopped early at epoch 312, validation loss …". */
export class TrainingSummaryResponse {
  /** Epochs (lbfgs: iterations) run; 0 for normal-equation, which has none. */
  @ApiProperty({ example: 312 })
  epochsRun: number;

  /** True when early stopping (patience, tolerance) ended the run before `epochs`. */
  @ApiProperty({ example: true })
  stoppedEarly: boolean;

  /** Rows the model was fitted on. */
  @ApiProperty({ example: 354 })
  trainRows: number;

  /** Rows held out and scored as metrics.validation; 0 when validationSplit is 0. */
  @ApiProperty({ example: 88 })
  validationRows: number;

  /** Validation loss at the same epochs as lossHistory; empty without a validation split. */
  @ApiProperty({ example: [28741012345.2, 23130476322.8, 18890122310.4] })
  validationLossHistory: number[];
}

export class TrainingJobResponse {
  @ApiProperty({ format: 'uuid', example: '0f313cce-9fb6-4a30-9473-56a9579a469f' })
  id: string;

  @ApiProperty({ example: 'house-prices' })
  model: string;

  @ApiProperty({ format: 'uuid', example: '7535b53f-dfaa-40fd-8120-b98f210ca973' })
  dataset: string;

  @ApiProperty({ example: 'price' })
  target: string;

  @ApiProperty({ example: ['area_m2', 'rooms', 'age_years'] })
  features: string[];

  @ApiProperty({ enum: JOB_STATUSES, example: 'running' })
  status: JobStatus;

  /** 0..1 */
  @ApiProperty({ example: 0.42 })
  progress: number;

  @ApiProperty({ example: 'linear-regression' })
  algorithm: string;

  /** The hyperparameters used, defaults filled in. */
  @ApiProperty({
    example: { optimizer: 'gradient-descent', learningRate: 0.1, epochs: 500, tolerance: 0 },
  })
  hyperparameters: Record<string, unknown>;

  @ApiProperty({ example: 0.2 })
  validationSplit: number;

  /** The seed used (a random one is recorded when the request gave none). */
  @ApiProperty({ example: 42 })
  seed: number;

  @ApiProperty({ nullable: true, type: String, example: 'production' })
  alias: string | null;

  /** Training loss over the epochs (at most 1000 points). */
  @ApiProperty({ example: [28083335848.97, 22802475625.7, 18534690775.05] })
  lossHistory: number[];

  @ApiProperty({ type: TrainingMetricsResponse, nullable: true })
  metrics: TrainingMetricsResponse | null;

  /** How the run went; null until the job succeeds. */
  @ApiProperty({ type: TrainingSummaryResponse, nullable: true })
  training: TrainingSummaryResponse | null;

  @ApiProperty({ nullable: true, type: Number, example: 1 })
  modelVersion: number | null;

  /** Why the job failed, and what to do about it. */
  @ApiProperty({
    nullable: true,
    type: String,
    example:
      'Training diverged with learningRate 5: at epoch 1 the loss became Infinity. Use a smaller learningRate; about 0.248 converges reliably for this data.',
  })
  error: string | null;

  /** The name of the API key that submitted the job. */
  @ApiProperty({ nullable: true, type: String, example: 'ci-pipeline' })
  createdBy: string | null;

  /**
   * How many times a runner started the job: 1 normally, more when a worker died mid-job and
   * another ran it again (at most TRAINING_JOB_ATTEMPTS).
   */
  @ApiProperty({ example: 1 })
  attempts: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:33:34.910Z' })
  createdAt: string;

  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    example: '2026-11-24T14:33:34.913Z',
  })
  startedAt: string | null;

  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    example: '2026-11-24T14:33:34.959Z',
  })
  finishedAt: string | null;
}

export class TrainingJobPageResponse extends PageOf(TrainingJobResponse) {}
