import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppError, ModelUnavailableError } from '../common/errors';
import { appConfig, AppConfig } from '../config/app.config';
import { MetricsService, ServingSeries } from '../metrics/metrics.service';
import type { Predictor } from '../ml';
import {
  ServingVersion,
  ServingVersionsService,
  VersionSelector,
} from '../models/serving-versions.service';
import { FeatureLayout, featureLayout } from './batch-builder';
import { LoadContext, loadServable } from './predictor-loaders';
import type { OnnxServable } from '../onnx/onnx-servable';
import type { ServingOptions } from '../models/model-version.entity';

interface LoadedVersionBase {
  readonly model: string;
  readonly modelId: string;
  readonly version: number;
  readonly format: string;
  readonly algorithm: string;
  /** The artifact's size: what the version counts for against the cache's byte bound. */
  readonly sizeBytes: number;
  readonly series: ServingSeries;
  /** Its key in the cache of loaded versions. */
  readonly key: string;
}

/** A version trained here (or imported as our JSON): a predictor compiled over typed arrays. */
export interface LoadedTabularVersion extends LoadedVersionBase {
  readonly kind: 'modeldock';
  readonly predictor: Predictor;
  /** How requests map onto the predictor's inputs. */
  readonly layout: FeatureLayout;
}

/** An ONNX version: an onnxruntime session, with what v1 requests need to map onto it. */
export interface LoadedOnnxVersion extends LoadedVersionBase {
  readonly kind: 'onnx';
  readonly onnx: OnnxServable;
  readonly options: ServingOptions;
}

/** A model version held in memory: everything a request needs to be answered. */
export type LoadedVersion = LoadedTabularVersion | LoadedOnnxVersion;

/** What one selector serves: the version that answers, and its alias's canary and shadow. */
export interface ServedRoute {
  /** The alias the selector went through (`production` by default); null for a version number. */
  readonly alias: string | null;
  readonly primary: LoadedVersion;
  /** Answers `weight` (0..1) of the requests instead of the primary. */
  readonly canary: { readonly version: LoadedVersion; readonly weight: number } | null;
  /** Also runs on `fraction` of the requests, after they are answered; compared, never sent. */
  readonly shadow: { readonly version: LoadedVersion; readonly fraction: number } | null;
}

function versionsOf(route: ServedRoute): LoadedVersion[] {
  const versions = [route.primary];
  if (route.canary) versions.push(route.canary.version);
  if (route.shadow) versions.push(route.shadow.version);
  return versions;
}

/** `v3`, `a:staging`, or `` for the default (alias production, else the latest ready version). */
export function selectorKey(selector: VersionSelector): string {
  if (selector.version !== undefined) return `v${selector.version}`;
  return selector.alias !== undefined ? `a:${selector.alias}` : '';
}

function selectorOf(key: string): VersionSelector {
  if (key.startsWith('v')) return { version: Number(key.slice(1)) };
  return key.startsWith('a:') ? { alias: key.slice(2) } : {};
}

/**
 * What serves predictions without touching the database: which version each selector of a model
 * resolves to, and the compiled predictors, all in memory.
 *
 * - The first requests for a selector share one resolution and one load, however many arrive at once.
 * - A registry change to a model re-resolves the selectors in use and loads their new versions
 *   before the change is acknowledged, so an alias move answers from the next request on and no
 *   request pays for the load. Versions no longer served are unloaded, with their metric series.
 * - At most `PREDICTOR_CACHE_SIZE` versions, and `PREDICTOR_CACHE_BYTES` of artifacts, stay
 *   loaded; the least recently used go first (an ONNX session's memory is about its file's size).
 */
@Injectable()
export class LoadedModelsService {
  private readonly logger = new Logger('Serving');
  /** model name → selector key → what it serves. */
  private readonly serving = new Map<string, Map<string, ServedRoute>>();
  /** model name → selector key → its resolution and load in progress. */
  private readonly pending = new Map<string, Map<string, Promise<ServedRoute>>>();
  /** Version key → its load in progress. */
  private readonly loading = new Map<string, Promise<LoadedVersion>>();
  /** Bumped on every change to a model, so a lookup that raced the change is not remembered. */
  private readonly generations = new Map<string, number>();
  private readonly versions: LRUCache<string, LoadedVersion>;

  constructor(
    private readonly registry: ServingVersionsService,
    private readonly metrics: MetricsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    this.versions = new LRUCache<string, LoadedVersion>({
      max: config.prediction.predictorCacheSize,
      maxSize: config.prediction.predictorCacheBytes,
      sizeCalculation: (loaded) => Math.max(1, loaded.sizeBytes),
      dispose: (loaded) => this.forget(loaded),
      disposeAfter: () =>
        this.metrics.setLoadedVersions(this.versions.size, this.versions.calculatedSize),
    });
    registry.onChange((model) => this.refresh(model));
  }

  /** The hot path: what a selector serves, if it is in memory. */
  find(model: string, key: string): ServedRoute | undefined {
    const route = this.serving.get(model)?.get(key);
    if (route) {
      // keeps them recently used
      this.versions.get(route.primary.key);
      if (route.canary) this.versions.get(route.canary.version.key);
      if (route.shadow) this.versions.get(route.shadow.version.key);
    }
    return route;
  }

  /** Resolves and loads what a selector serves; concurrent callers share one load. */
  load(model: string, selector: VersionSelector): Promise<ServedRoute> {
    const key = selectorKey(selector);
    let forModel = this.pending.get(model);
    const inFlight = forModel?.get(key);
    if (inFlight) return inFlight;
    if (!forModel) this.pending.set(model, (forModel = new Map()));
    const generation = this.generation(model);
    const promise = this.resolveAndLoad(model, selector)
      .then((route) => {
        if (this.generation(model) === generation) this.remember(model, key, route);
        return route;
      })
      .finally(() => {
        const current = this.pending.get(model);
        if (current?.get(key) !== promise) return;
        current.delete(key);
        if (current.size === 0) this.pending.delete(model);
      });
    forModel.set(key, promise);
    return promise;
  }

  /**
   * The selector's version, and its alias's canary and shadow. A canary or shadow that fails to
   * load is left out (logged and counted): the alias's own version keeps serving everything.
   */
  private async resolveAndLoad(model: string, selector: VersionSelector): Promise<ServedRoute> {
    const serving = await this.registry.resolve(model, selector);
    const primary = await this.loadVersion(serving);
    const { routing } = serving;
    if (!routing) return { alias: null, primary, canary: null, shadow: null };
    const [canary, shadow] = await Promise.all([
      routing.canary && this.loadPartner(model, routing.canary.version, 'canary'),
      routing.shadow && this.loadPartner(model, routing.shadow.version, 'shadow'),
    ]);
    return {
      alias: routing.alias,
      primary,
      canary: canary && routing.canary ? { version: canary, weight: routing.canary.weight } : null,
      shadow:
        shadow && routing.shadow ? { version: shadow, fraction: routing.shadow.fraction } : null,
    };
  }

  private async loadPartner(
    model: string,
    version: number,
    role: 'canary' | 'shadow',
  ): Promise<LoadedVersion | null> {
    try {
      return await this.loadVersion(await this.registry.resolve(model, { version }));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(`The ${role} v${version} of ${model} is not serving: ${reason}`);
      return null;
    }
  }

  private async loadVersion(serving: ServingVersion): Promise<LoadedVersion> {
    const key = `${serving.modelId}:${serving.version}`;
    const loaded = this.versions.get(key);
    if (loaded) return loaded;
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.compile(serving, key).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  /** A cold load: the row came with the resolution, so this is one storage read and a compile. */
  private async compile(serving: ServingVersion, key: string): Promise<LoadedVersion> {
    const series = this.metrics.servingSeries(serving.model, serving.version);
    try {
      const context: LoadContext = { onnx: this.config.onnx, batches: series };
      const servable = await loadServable(await this.registry.artifact(serving), serving, context);
      const base = {
        model: serving.model,
        modelId: serving.modelId,
        version: serving.version,
        format: serving.format,
        algorithm: serving.algorithm,
        sizeBytes: serving.sizeBytes,
        series,
        key,
      };
      const loaded: LoadedVersion =
        servable.kind === 'modeldock'
          ? {
              ...base,
              kind: 'modeldock',
              predictor: servable.predictor,
              layout: featureLayout(servable.predictor.inputs, servable.predictor.acceptsMissing),
            }
          : { ...base, kind: 'onnx', onnx: servable.onnx, options: serving.serving ?? {} };
      this.versions.set(key, loaded);
      this.metrics.setLoadedVersions(this.versions.size, this.versions.calculatedSize);
      this.metrics.countModelLoad('success');
      this.logger.log(`Loaded ${serving.model} v${serving.version} for serving`);
      return loaded;
    } catch (error) {
      series.remove();
      this.metrics.countModelLoad('failure');
      if (error instanceof AppError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(`Loading ${serving.model} v${serving.version} failed: ${reason}`);
      throw new ModelUnavailableError(
        `Version ${serving.version} of ${serving.model} could not be loaded for serving: ${reason}`,
      );
    }
  }

  private remember(model: string, key: string, route: ServedRoute): void {
    // A version unloaded meanwhile: the next request reloads.
    if (!versionsOf(route).every((loaded) => this.versions.has(loaded.key))) return;
    let forModel = this.serving.get(model);
    if (!forModel) this.serving.set(model, (forModel = new Map()));
    forModel.set(key, route);
  }

  /** An unloaded version stops serving every selector that used it, and drops its series. */
  private forget(loaded: LoadedVersion): void {
    loaded.series.remove();
    if (loaded.kind === 'onnx') {
      loaded.onnx.retire().catch((error: unknown) => {
        this.logger.warn(`Releasing ${loaded.model} v${loaded.version}: ${String(error)}`);
      });
    }
    const forModel = this.serving.get(loaded.model);
    if (!forModel) return;
    for (const [key, route] of forModel) {
      if (versionsOf(route).includes(loaded)) forModel.delete(key);
    }
    if (forModel.size === 0) this.serving.delete(loaded.model);
  }

  private generation(model: string): number {
    return this.generations.get(model) ?? 0;
  }

  /**
   * After a committed change to `model`: resolve every selector in use again and load what it now
   * serves, then switch all of them at once. Never throws: a selector that no longer resolves is
   * dropped, and its next request says why.
   */
  private async refresh(model: string): Promise<void> {
    const generation = this.generation(model) + 1;
    this.generations.set(model, generation);
    this.pending.delete(model);
    const keys = [...(this.serving.get(model)?.keys() ?? [])];
    const fresh = new Map<string, ServedRoute>();
    await Promise.all(
      keys.map(async (key) => {
        try {
          fresh.set(key, await this.resolveAndLoad(model, selectorOf(key)));
        } catch (error) {
          if (!(error instanceof AppError)) {
            const stack = error instanceof Error ? error.stack : String(error);
            this.logger.error(
              `Reloading ${model} (${key || 'default'}) after a change failed`,
              stack,
            );
          }
        }
      }),
    );
    if (this.generation(model) !== generation) return; // a later change is being applied
    if (fresh.size > 0) this.serving.set(model, fresh);
    else this.serving.delete(model);
    const stillServed = new Set(
      [...fresh.values()].flatMap((route) => versionsOf(route).map((loaded) => loaded.key)),
    );
    const unserved = [...this.versions.values()].filter(
      (loaded) => loaded.model === model && !stillServed.has(loaded.key),
    );
    for (const loaded of unserved) this.versions.delete(loaded.key);
  }
}
