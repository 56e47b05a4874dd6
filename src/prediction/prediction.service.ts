import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { InvalidInputError } from '../common/errors';
import { appConfig, AppConfig } from '../config/app.config';
import { MetricsService } from '../metrics/metrics.service';
import { compilePredictor, Predictor, validateArtifact } from '../ml';
import { ModelsService, ServingVersion, VersionSelector } from '../models/models.service';
import { parseInstances } from './instances';

export interface PredictionResult {
  model: string;
  version: number;
  /** Numbers for a regressor; class labels for a classifier. */
  predictions: (number | string)[];
  /** Classifiers: one row per instance, in `classes` order. */
  probabilities?: number[][];
  classes?: (number | string)[];
}

/**
 * Serves predictions from memory: alias/version resolution and compiled predictors are cached,
 * so a request touches the database only the first time a version (or a selector) is seen.
 * Registry changes drop the resolutions of that model, so the next request sees a moved alias.
 */
@Injectable()
export class PredictionService {
  /** model name → selector (`v3`, `a:staging`, `a:` for the default) → the version it serves. */
  private readonly resolutions: LRUCache<string, Map<string, ServingVersion>>;
  /** Bumped on every change to a model, so a lookup that raced a change is not cached. */
  private readonly generations = new Map<string, number>();
  private readonly loaded: LRUCache<string, Predictor, ServingVersion>;

  constructor(
    private readonly models: ModelsService,
    private readonly metrics: MetricsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    // Versions are immutable, so a loaded predictor never goes stale; the LRU only bounds memory.
    this.loaded = new LRUCache<string, Predictor, ServingVersion>({
      max: config.prediction.predictorCacheSize,
      fetchMethod: (_key, _stale, { context }) => this.load(context),
    });
    this.resolutions = new LRUCache({ max: config.prediction.predictorCacheSize });
    models.onChange((model) => {
      this.generations.set(model, (this.generations.get(model) ?? 0) + 1);
      this.resolutions.delete(model);
    });
  }

  async predict(
    name: string,
    selector: VersionSelector,
    instances: unknown[],
  ): Promise<PredictionResult> {
    if (selector.version !== undefined && selector.alias !== undefined) {
      throw new InvalidInputError('Pass either ?version= or ?alias=, not both.');
    }
    const maxRows = this.config.prediction.maxRows;
    if (instances.length > maxRows) {
      throw new InvalidInputError(
        `${instances.length} instances exceed the limit of ${maxRows} per request; split the batch.`,
      );
    }
    const serving = await this.resolve(name, selector);
    const predictor = await this.loaded.fetch(
      `${serving.modelId}:${serving.version}:${serving.checksum}`,
      { context: serving },
    );
    if (!predictor) throw new Error(`Version ${serving.version} of ${name} could not be loaded.`);
    const output = predictor.predict(
      parseInstances(instances, predictor.inputs, predictor.acceptsMissing),
    );
    this.metrics.countPrediction(name, instances.length);
    const answer = { model: name, version: serving.version };
    if (output.kind === 'regression') return { ...answer, predictions: Array.from(output.values) };
    const width = output.classes.length;
    const probabilities = Array.from({ length: instances.length }, (_, row) =>
      Array.from(output.probabilities.subarray(row * width, (row + 1) * width)),
    );
    return { ...answer, predictions: output.labels, probabilities, classes: output.classes };
  }

  private async resolve(name: string, selector: VersionSelector): Promise<ServingVersion> {
    const key =
      selector.version !== undefined ? `v${selector.version}` : `a:${selector.alias ?? ''}`;
    const cached = this.resolutions.get(name)?.get(key);
    if (cached) return cached;
    const generation = this.generations.get(name) ?? 0;
    const resolved = await this.models.resolveServingVersion(name, selector);
    if ((this.generations.get(name) ?? 0) !== generation) return resolved;
    let forModel = this.resolutions.get(name);
    if (!forModel) this.resolutions.set(name, (forModel = new Map()));
    forModel.set(key, resolved);
    return resolved;
  }

  private async load(serving: ServingVersion): Promise<Predictor> {
    const { artifact } = await this.models.loadArtifact(serving.modelId, serving.version);
    const result = validateArtifact(JSON.parse(artifact));
    if (!result.artifact) {
      throw new Error(
        `Stored artifact of ${serving.model} v${serving.version} is invalid: ${result.errors[0]?.message}`,
      );
    }
    return compilePredictor(result.artifact);
  }
}
