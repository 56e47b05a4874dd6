import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { Page } from '../common/pagination';
import { TransactionsService } from '../database/transactions.service';
import { ModelAlias } from './model-alias.entity';
import { ModelEvent, ModelEventAction } from './model-event.entity';
import { ModelVersion } from './model-version.entity';
import { RegisteredModel } from './registered-model.entity';

/** What a trainer (or an import) hands the registry to become a new immutable version. */
export interface NewModelVersion {
  model: string;
  algorithm: string;
  format: string;
  artifact: string;
  inputSchema: { name: string; type: string }[];
  outputSchema: { name: string; type: string }[];
  hyperparameters: ModelVersion['hyperparameters'];
  metrics: ModelVersion['metrics'];
  lossHistory: number[];
  dataset: { id: string; checksum: string } | null;
  trainingJobId: string | null;
  description: string | null;
  tags: Record<string, string>;
  /** Point this alias at the new version in the same transaction. */
  alias: string | null;
}

export interface ModelSummary {
  model: RegisteredModel;
  latestVersion: number | null;
  aliases: Record<string, number>;
}

export interface VersionWithAliases {
  model: RegisteredModel;
  version: ModelVersion;
  aliases: string[];
}

/** The version a prediction request resolves to. */
export interface ServingVersion {
  modelId: string;
  model: string;
  version: number;
  checksum: string;
}

export type VersionSelector = { version?: number; alias?: string };

export const DEFAULT_SERVING_ALIAS = 'production';

@Injectable()
export class ModelsService {
  private readonly changeListeners: ((model: string) => void)[] = [];

  constructor(
    @InjectRepository(RegisteredModel) private readonly models: Repository<RegisteredModel>,
    @InjectRepository(ModelVersion) private readonly versions: Repository<ModelVersion>,
    @InjectRepository(ModelAlias) private readonly aliases: Repository<ModelAlias>,
    @InjectRepository(ModelEvent) private readonly events: Repository<ModelEvent>,
    private readonly transactions: TransactionsService,
  ) {}

  /** Called after every committed change to a model's versions or aliases (cache invalidation). */
  onChange(listener: (model: string) => void): void {
    this.changeListeners.push(listener);
  }

  async createModel(input: {
    name: string;
    description?: string | null;
    tags?: Record<string, string>;
  }) {
    const model = await this.transactions.run(async (manager) => {
      if (await manager.existsBy(RegisteredModel, { name: input.name })) {
        throw new ConflictError(
          `Model ${input.name} already exists. Use PATCH /v1/models/${input.name} to edit it.`,
        );
      }
      return this.insertModel(manager, input.name, input.description ?? null, input.tags ?? {});
    });
    return this.summarize(model);
  }

  async listModels(limit: number, offset: number): Promise<Page<ModelSummary>> {
    const [models, total] = await this.models.findAndCount({
      order: { name: 'ASC' },
      take: limit,
      skip: offset,
    });
    return {
      items: await Promise.all(models.map((model) => this.summarize(model))),
      total,
      limit,
      offset,
    };
  }

  async getModel(name: string): Promise<ModelSummary> {
    return this.summarize(await this.findModel(name));
  }

  async listVersions(
    name: string,
    limit: number,
    offset: number,
  ): Promise<Page<VersionWithAliases>> {
    const model = await this.findModel(name);
    const [versions, total] = await this.versions.findAndCount({
      where: { modelId: model.id },
      order: { version: 'DESC' },
      take: limit,
      skip: offset,
    });
    const aliases = await this.aliases.findBy({ modelId: model.id });
    const items = versions.map((version) => ({
      model,
      version,
      aliases: aliases.filter((a) => a.version === version.version).map((a) => a.alias),
    }));
    return { items, total, limit, offset };
  }

  async getVersion(name: string, versionNumber: number): Promise<VersionWithAliases> {
    const model = await this.findModel(name);
    const version = await this.findVersion(model, versionNumber);
    const aliases = await this.aliases.findBy({ modelId: model.id, version: versionNumber });
    return { model, version, aliases: aliases.map((a) => a.alias) };
  }

  async getArtifact(
    name: string,
    versionNumber: number,
  ): Promise<{ artifact: string; checksum: string }> {
    const model = await this.findModel(name);
    await this.findVersion(model, versionNumber);
    return this.loadArtifact(model.id, versionNumber);
  }

  async loadArtifact(
    modelId: string,
    version: number,
  ): Promise<{ artifact: string; checksum: string }> {
    const row = await this.versions.findOne({
      where: { modelId, version },
      select: { artifact: true, checksum: true },
    });
    if (!row) throw new NotFoundError(`Version ${version} no longer exists.`);
    return row;
  }

  /**
   * Allocates the next version number and stores the version (and its alias, if asked) in one
   * transaction. `alsoInTransaction` lets the caller commit its own write with it (a training job
   * becomes `succeeded` exactly when its version exists).
   */
  async registerVersion(
    input: NewModelVersion,
    alsoInTransaction?: (manager: EntityManager, version: ModelVersion) => Promise<void>,
  ): Promise<ModelVersion> {
    const version = await this.transactions.run(async (manager) => {
      const created = await this.insertVersion(manager, input);
      await alsoInTransaction?.(manager, created);
      return created;
    });
    this.notifyChange(input.model);
    return version;
  }

  private async insertVersion(
    manager: EntityManager,
    input: NewModelVersion,
  ): Promise<ModelVersion> {
    const model =
      (await manager.findOneBy(RegisteredModel, { name: input.model })) ??
      (await this.insertModel(manager, input.model, null, {}));
    // The UPDATE takes the row lock that serialises concurrent registrations of one model.
    await manager.update(
      RegisteredModel,
      { id: model.id },
      { lastVersion: () => 'last_version + 1', updatedAt: new Date() },
    );
    const { lastVersion } = await manager.findOneByOrFail(RegisteredModel, { id: model.id });
    const version = manager.create(ModelVersion, {
      id: randomUUID(),
      createdAt: new Date(),
      modelId: model.id,
      version: lastVersion,
      status: 'ready',
      algorithm: input.algorithm,
      format: input.format,
      inputSchema: input.inputSchema,
      outputSchema: input.outputSchema,
      hyperparameters: input.hyperparameters,
      metrics: input.metrics,
      lossHistory: input.lossHistory,
      datasetId: input.dataset?.id ?? null,
      datasetChecksum: input.dataset?.checksum ?? null,
      trainingJobId: input.trainingJobId,
      artifact: input.artifact,
      checksum: createHash('sha256').update(input.artifact).digest('hex'),
      sizeBytes: Buffer.byteLength(input.artifact),
      description: input.description,
      tags: input.tags,
    });
    await manager.insert(ModelVersion, version);
    await this.recordEvent(manager, model.id, 'version_created', { toVersion: lastVersion });
    if (input.alias) await this.moveAlias(manager, model, input.alias, lastVersion);
    return version;
  }

  async getAlias(name: string, alias: string): Promise<ModelAlias> {
    const model = await this.findModel(name);
    const row = await this.aliases.findOneBy({ modelId: model.id, alias });
    if (!row) {
      throw new NotFoundError(
        `Model ${name} has no alias ${alias}. Set it with PUT /v1/models/${name}/aliases/${alias} { "version": N }.`,
      );
    }
    return row;
  }

  async setAlias(name: string, alias: string, version: number): Promise<ModelAlias> {
    assertName(alias, 'alias');
    const row = await this.transactions.run(async (manager) => {
      const model = await this.findModel(name, manager);
      await this.findVersion(model, version, manager);
      return this.moveAlias(manager, model, alias, version);
    });
    this.notifyChange(name);
    return row;
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.transactions.run(async (manager) => {
      const model = await this.findModel(name, manager);
      const row = await manager.findOneBy(ModelAlias, { modelId: model.id, alias });
      if (!row) throw new NotFoundError(`Model ${name} has no alias ${alias}.`);
      await manager.delete(ModelAlias, { modelId: model.id, alias });
      await manager.update(RegisteredModel, { id: model.id }, { updatedAt: new Date() });
      await this.recordEvent(manager, model.id, 'alias_deleted', {
        alias,
        fromVersion: row.version,
      });
    });
    this.notifyChange(name);
  }

  async listEvents(name: string, limit: number, offset: number): Promise<Page<ModelEvent>> {
    const model = await this.findModel(name);
    const [items, total] = await this.events.findAndCount({
      where: { modelId: model.id },
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  /** name + (version | alias | default) → the version that serves: alias `production`, else the latest ready one. */
  async resolveServingVersion(name: string, selector: VersionSelector): Promise<ServingVersion> {
    const model = await this.findModel(name);
    let versionNumber = selector.version;
    if (versionNumber === undefined && selector.alias !== undefined) {
      versionNumber = (await this.getAlias(name, selector.alias)).version;
    }
    if (versionNumber === undefined) {
      const production = await this.aliases.findOneBy({
        modelId: model.id,
        alias: DEFAULT_SERVING_ALIAS,
      });
      versionNumber = production?.version;
    }
    const version =
      versionNumber === undefined
        ? await this.versions.findOne({
            where: { modelId: model.id, status: 'ready' },
            order: { version: 'DESC' },
          })
        : await this.findVersion(model, versionNumber);
    if (!version) {
      throw new ConflictError(
        `Model ${name} has no ready version to serve yet. Train or import one first.`,
      );
    }
    if (version.status !== 'ready') {
      throw new ConflictError(
        `Version ${version.version} of ${name} is ${version.status} and does not serve. Pick another with ?version=.`,
      );
    }
    return { modelId: model.id, model: name, version: version.version, checksum: version.checksum };
  }

  private async moveAlias(
    manager: EntityManager,
    model: RegisteredModel,
    alias: string,
    version: number,
  ) {
    const previous = await manager.findOneBy(ModelAlias, { modelId: model.id, alias });
    const now = new Date();
    await manager.upsert(ModelAlias, { modelId: model.id, alias, version, updatedAt: now }, [
      'modelId',
      'alias',
    ]);
    await manager.update(RegisteredModel, { id: model.id }, { updatedAt: now });
    await this.recordEvent(manager, model.id, 'alias_set', {
      alias,
      fromVersion: previous?.version ?? null,
      toVersion: version,
    });
    return manager.findOneByOrFail(ModelAlias, { modelId: model.id, alias });
  }

  private async insertModel(
    manager: EntityManager,
    name: string,
    description: string | null,
    tags: Record<string, string>,
  ): Promise<RegisteredModel> {
    assertName(name, 'model');
    const model = manager.create(RegisteredModel, {
      id: randomUUID(),
      name,
      description,
      tags,
      lastVersion: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await manager.insert(RegisteredModel, model);
    await this.recordEvent(manager, model.id, 'model_created', {});
    return manager.findOneByOrFail(RegisteredModel, { id: model.id });
  }

  private async recordEvent(
    manager: EntityManager,
    modelId: string,
    action: ModelEventAction,
    fields: Partial<Pick<ModelEvent, 'alias' | 'fromVersion' | 'toVersion'>>,
  ): Promise<void> {
    await manager.insert(ModelEvent, {
      createdAt: new Date(),
      modelId,
      action,
      alias: fields.alias ?? null,
      fromVersion: fields.fromVersion ?? null,
      toVersion: fields.toVersion ?? null,
      actor: null,
    });
  }

  private async summarize(model: RegisteredModel): Promise<ModelSummary> {
    const [latest, aliases] = await Promise.all([
      this.versions.findOne({
        where: { modelId: model.id },
        order: { version: 'DESC' },
        select: { version: true },
      }),
      this.aliases.findBy({ modelId: model.id }),
    ]);
    return {
      model,
      latestVersion: latest?.version ?? null,
      aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])),
    };
  }

  private async findModel(name: string, manager?: EntityManager): Promise<RegisteredModel> {
    const model = await (manager ?? this.models.manager).findOneBy(RegisteredModel, { name });
    if (!model)
      throw new NotFoundError(`Model ${name} does not exist. List models with GET /v1/models.`);
    return model;
  }

  private async findVersion(model: RegisteredModel, version: number, manager?: EntityManager) {
    const row = await (manager ?? this.versions.manager).findOneBy(ModelVersion, {
      modelId: model.id,
      version,
    });
    if (!row) {
      throw new NotFoundError(
        `Model ${model.name} has no version ${version}. List versions with GET /v1/models/${model.name}/versions.`,
      );
    }
    return row;
  }

  private notifyChange(model: string): void {
    for (const listener of this.changeListeners) listener(model);
  }
}

function assertName(value: string, what: string): void {
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidInputError(`The ${what} name "${value}" is invalid: it ${NAME_RULE}.`, [
      { field: what, message: NAME_RULE },
    ]);
  }
}
