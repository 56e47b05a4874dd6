import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import {
  Algorithm,
  ALGORITHMS,
  defaultHyperparameters,
  hyperparameterSpecs,
} from '../ml/hyperparameters';
import { AlgorithmListResponse, AlgorithmResponse } from './dto/algorithm.dto';

const DESCRIPTIONS: Record<Algorithm, { task: AlgorithmResponse['task']; description: string }> = {
  'linear-regression': {
    task: 'regression',
    description: 'Least squares on standardised features.',
  },
  'ridge-regression': {
    task: 'regression',
    description: 'Least squares with an L2 penalty (scikit-learn’s Ridge).',
  },
  'logistic-regression': {
    task: 'classification',
    description: 'Binary and multinomial logistic regression; string or numeric labels.',
  },
};

/** What a training form needs to know: each algorithm's hyperparameters, ranges and defaults. */
function describe(algorithm: Algorithm): AlgorithmResponse {
  const specs = hyperparameterSpecs(algorithm);
  const optimizers = [...specs[0].values!];
  return {
    name: algorithm,
    ...DESCRIPTIONS[algorithm],
    optimizers,
    defaultOptimizer: defaultHyperparameters(algorithm).optimizer,
    defaults: Object.fromEntries(
      optimizers.map((optimizer) => [
        optimizer,
        { ...defaultHyperparameters(algorithm, optimizer), optimizer },
      ]),
    ),
    hyperparameters: specs.map((spec) => ({
      ...spec,
      values: spec.values && [...spec.values],
      optimizers: [...spec.optimizers],
    })),
  };
}

@ApiTags('training-jobs')
@Controller('v1/algorithms')
export class AlgorithmsController {
  private readonly catalogue: AlgorithmListResponse = { items: ALGORITHMS.map(describe) };

  @Get()
  @Access('metadata')
  @ApiOperation({
    summary: 'The algorithms a training job can use, with their hyperparameters',
    description:
      'Types, ranges, defaults per optimizer and which optimizers use each hyperparameter: what a form needs. `POST /v1/training-jobs` checks a request against the same rules.',
  })
  @ApiOkResponse({ type: AlgorithmListResponse })
  list(): AlgorithmListResponse {
    return this.catalogue;
  }
}
