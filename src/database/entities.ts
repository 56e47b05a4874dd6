import { ApiKey } from '../auth/api-key.entity';
import { Dataset } from '../datasets/dataset.entity';
import { ModelAlias } from '../models/model-alias.entity';
import { ModelEvent } from '../models/model-event.entity';
import { ModelVersion } from '../models/model-version.entity';
import { RegisteredModel } from '../models/registered-model.entity';
import { PredictionLogEntry } from '../monitoring/prediction-log.entity';
import { TrainingJob } from '../training/training-job.entity';

export const ENTITIES = [
  Dataset,
  TrainingJob,
  RegisteredModel,
  ModelVersion,
  ModelAlias,
  ModelEvent,
  ApiKey,
  PredictionLogEntry,
];
