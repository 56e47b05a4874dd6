import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app.config';
import type { MetricsService, ServingSeries } from '../metrics/metrics.service';
import type { ChangeListener } from '../models/registry-events.service';
import type {
  ServingVersion,
  ServingVersionsService,
  VersionSelector,
} from '../models/serving-versions.service';
import { LoadedModelsService } from './loaded-models.service';

/** y = scale * x + 1, in the first artifact format. */
function artifact(scale: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      format: 'modeldock/v1',
      algorithm: 'linear-regression',
      inputs: [{ name: 'x', type: 'number' }],
      output: { name: 'y', type: 'number' },
      coefficients: [scale],
      intercept: 1,
    }),
  );
}

/** A registry in memory that counts what serving asks of it. */
class FakeRegistry {
  /** model → alias → version */
  aliases = new Map<string, Map<string, number>>();
  resolves = 0;
  artifactReads = 0;
  private listener: ChangeListener = async () => {};

  resolve(model: string, selector: VersionSelector): Promise<ServingVersion> {
    this.resolves++;
    const version =
      selector.version ?? this.aliases.get(model)?.get(selector.alias ?? 'production') ?? 1;
    return Promise.resolve({
      modelId: `id-${model}`,
      model,
      version,
      versionId: `${model}-v${version}`,
      checksum: 'x',
      format: 'modeldock/v1',
      kind: 'modeldock',
      routing: null,
      algorithm: 'linear-regression',
      sizeBytes: 200,
      inputSchema: [],
      outputSchema: [],
      serving: null,
    });
  }

  async artifact(serving: ServingVersion): Promise<Buffer> {
    this.artifactReads++;
    await new Promise((resolve) => setImmediate(resolve));
    return artifact(serving.version);
  }

  onChange(listener: ChangeListener): void {
    this.listener = listener;
  }

  async moveAlias(model: string, alias: string, version: number): Promise<void> {
    if (!this.aliases.has(model)) this.aliases.set(model, new Map());
    this.aliases.get(model)?.set(alias, version);
    await this.listener(model);
  }
}

function setUp(cacheSize = 10) {
  const registry = new FakeRegistry();
  const series: ServingSeries = {
    answered: () => {},
    remove: () => {},
  } as unknown as ServingSeries;
  const metrics = {
    servingSeries: () => series,
    setLoadedVersions: () => {},
    countModelLoad: () => {},
  } as unknown as MetricsService;
  const config = {
    prediction: { predictorCacheSize: cacheSize, predictorCacheBytes: 1024 ** 3 },
    onnx: { intraOpThreads: 1 },
  } as AppConfig;
  const loaded = new LoadedModelsService(
    registry as unknown as ServingVersionsService,
    metrics,
    config,
  );
  return { registry, loaded };
}

describe('LoadedModelsService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('reads the registry once and the artifact once for a cold load, however many ask at once', async () => {
    const { registry, loaded } = setUp();
    const all = await Promise.all(Array.from({ length: 20 }, () => loaded.load('m', {})));
    expect(new Set(all).size).toBe(1);
    expect(registry.resolves).toBe(1);
    expect(registry.artifactReads).toBe(1);
    expect(loaded.find('m', '')).toBe(all[0]);
    expect(all[0].primary).toMatchObject({ model: 'm', version: 1, format: 'modeldock/v1' });
  });

  it('loads the version an alias moves to when the change is announced', async () => {
    const { registry, loaded } = setUp();
    await loaded.load('m', {});
    await registry.moveAlias('m', 'production', 3);
    expect(loaded.find('m', '')?.primary.version).toBe(3);
    expect(registry.artifactReads).toBe(2);
  });

  it('keeps at most PREDICTOR_CACHE_SIZE versions, the least recently used going first', async () => {
    const { loaded } = setUp(2);
    await loaded.load('a', {});
    await loaded.load('b', {});
    loaded.find('a', '');
    await loaded.load('c', {});
    expect(loaded.find('a', '')).toBeDefined();
    expect(loaded.find('b', '')).toBeUndefined();
    expect(loaded.find('c', '')).toBeDefined();
  });

  it('compiles the artifact of the kind the version has', async () => {
    const { loaded } = setUp();
    const { primary: served } = await loaded.load('m', { version: 4 });
    if (served.kind !== 'modeldock') throw new Error(`loaded as ${served.kind}`);
    expect(served.predictor.kind).toBe('regression');
    const output = served.predictor.predict({
      rowCount: 1,
      numbers: Float64Array.of(2),
      strings: null,
    });
    expect(output).toMatchObject({ kind: 'regression', values: Float64Array.of(9) });
  });
});
