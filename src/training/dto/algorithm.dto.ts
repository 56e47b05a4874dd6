import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ALGORITHMS } from '../../ml/hyperparameters';

export class HyperparameterSpecResponse {
  @ApiProperty({ example: 'learningRate' })
  name: string;

  @ApiProperty({ enum: ['number', 'integer', 'enum', 'class-weight'], example: 'number' })
  type: 'number' | 'integer' | 'enum' | 'class-weight';

  @ApiProperty({ example: 'Step size of gradient-descent, sgd and adam.' })
  description: string;

  @ApiPropertyOptional({ example: 0 })
  minimum?: number;

  /** True when the minimum itself is not allowed. */
  @ApiPropertyOptional({ example: true })
  exclusiveMinimum?: boolean;

  @ApiPropertyOptional({ example: 100 })
  maximum?: number;

  /** The choices of an `enum` (and the named choices of `class-weight`). */
  @ApiPropertyOptional({ type: [String], example: ['lbfgs', 'gradient-descent', 'adam'] })
  values?: string[];

  /** The optimizers that use it; the others ignore it. */
  @ApiProperty({ type: [String], example: ['gradient-descent', 'sgd', 'adam'] })
  optimizers: string[];
}

export class AlgorithmResponse {
  @ApiProperty({ enum: ALGORITHMS, example: 'logistic-regression' })
  name: string;

  @ApiProperty({ enum: ['regression', 'classification'], example: 'classification' })
  task: 'regression' | 'classification';

  @ApiProperty({ example: 'Binary and multinomial logistic regression (softmax).' })
  description: string;

  @ApiProperty({ type: [String], example: ['lbfgs', 'gradient-descent', 'adam'] })
  optimizers: string[];

  /** The optimizer a job gets when it names none. */
  @ApiProperty({ example: 'lbfgs' })
  defaultOptimizer: string;

  /** Every hyperparameter's default, per optimizer (some differ: sgd and adam run fewer epochs). */
  @ApiProperty({
    example: { lbfgs: { optimizer: 'lbfgs', learningRate: 0.1, epochs: 100, l2: 1 } },
  })
  defaults: Record<string, Record<string, unknown>>;

  @ApiProperty({ type: [HyperparameterSpecResponse] })
  hyperparameters: HyperparameterSpecResponse[];
}

export class AlgorithmListResponse {
  @ApiProperty({ type: [AlgorithmResponse] })
  items: AlgorithmResponse[];
}
