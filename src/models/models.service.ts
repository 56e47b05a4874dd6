import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import type { Actor } from '../auth/roles';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../common/errors';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { Page } from '../common/pagination';
import { TransactionsService } from '../database/transactions.service';
import { ARTIFACT_FORMATS, validateArtifact } from '../ml';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';
import { ModelAlias } from './model-alias.entity';
import { ModelVersion, VersionStatus } from './model-version.entity';
import { RegisteredModel } from './registered-model.entity';
import { ChangeListener, RegistryEventsService } from './registry-events.service';
import { compareVersions, ModelFilter, VersionSort } from './registry-queries';

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
  dataset: { id: string; name: string; checksum: string } | null;
  trainingJobId: string | null;
  createdBy: string;
  /** The key on whose behalf the version is registered (the audit trail names it). */
  actor: Actor;
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

export interface ModelChanges {
  description?: string | null;
  tags?: Record<string, string>;
}

export interface VersionChanges extends ModelChanges {
  status?: VersionStatus;
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

/** Says why a model may not be deleted now (a job that would recreate it), or null. */
export type ModelDeletionCheck = (name: string) => Promise<string | null>;

/**
 * A caller's write that commits with a new version; false rolls the whole registration back
 * (a training job whose claim is gone registers nothing).
 */
export type CommitWithVersion = (manager: EntityManager, version: ModelVersion) => Promise<boolean>;

/** Rolls the registration transaction back when the caller's write declined; never leaves this file. */
class RegistrationDeclined extends Error {}

/**
 * The model registry: models, their immutable versions and movable aliases. Every change runs in
 * one transaction with its audit event, and is announced once committed, so serving follows it.
 */
@Injectable()
export class ModelsService {
  private readonly logger = new Logger('Registry');
  private readonly deletionChecks: ModelDeletionCheck[] = [];

  constructor(
    @InjectRepository(RegisteredModel) private readonly models: Repository<RegisteredModel>,
    @InjectRepository(ModelVersion) private readonly versions: Repository<ModelVersion>,
    @InjectRepository(ModelAlias) private readonly aliases: Repository<ModelAlias>,
    private readonly events: RegistryEventsService,
    private readonly transactions: TransactionsService,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  async createModel(name: string, changes: ModelChanges, actor: Actor): Promise<ModelSummary> {
    const model = await this.transactions.run(async (manager) => {
      if (await manager.existsBy(RegisteredModel, { name })) {
        throw new ConflictError(
          `Model ${name} already exists. Edit it with PATCH /v1/models/${name}.`,
        );
      }
      return this.insertModel(manager, name, changes, actor);
    });
    return this.summarize(model);
  }

  async listModels(
    filter: ModelFilter,
    limit: number,
    offset: number,
  ): Promise<Page<ModelSummary>> {
    const query = this.models.createQueryBuilder('model');
    if (filter.prefix) {
      // SUBSTR is case-sensitive on every driver, unlike LIKE on SQLite.
      query.where('SUBSTR(model.name, 1, :length) = :prefix', {
        length: filter.prefix.length,
        prefix: filter.prefix,
      });
    }
    const [column, direction] = filter.sort.startsWith('-')
      ? [filter.sort.slice(1), 'DESC' as const]
      : [filter.sort, 'ASC' as const];
    query.orderBy(`model.${column}`, direction).addOrderBy('model.name', 'ASC');

    let models: RegisteredModel[];
    let total: number;
    if (filter.tag) {
      // Tags are a JSON column; filter them here (a registry holds thousands of models, not millions).
      const { key, value } = filter.tag;
      const matching = (await query.getMany()).filter((model) =>
        value === undefined ? key in model.tags : model.tags[key] === value,
      );
      total = matching.length;
      models = matching.slice(offset, offset + limit);
    } else {
      [models, total] = await query.skip(offset).take(limit).getManyAndCount();
    }
    return { items: await this.summarizeAll(models), total, limit, offset };
  }

  async getModel(name: string): Promise<ModelSummary> {
    return this.summarize(await this.findModel(name));
  }

  async updateModel(name: string, changes: ModelChanges): Promise<ModelSummary> {
    const model = await this.findModel(name);
    await this.models.update({ id: model.id }, { ...changes, updatedAt: new Date() });
    return this.getModel(name);
  }

  /** Another module's reason to refuse deleting a model (a job that would register into it). */
  addDeletionCheck(check: ModelDeletionCheck): void {
    this.deletionChecks.push(check);
  }

  /**
   * Removes the model with its versions, aliases and events, unless an alias still serves or a
   * deletion check refuses (a queued or running job would recreate the model when it finishes).
   */
  async deleteModel(name: string): Promise<void> {
    await this.findModel(name);
    for (const check of this.deletionChecks) {
      const reason = await check(name);
      if (reason) throw new ConflictError(reason);
    }
    const versionIds = await this.transactions.run(async (manager) => {
      const model = await this.findModel(name, manager);
      const aliases = await manager.findBy(ModelAlias, { modelId: model.id });
      if (aliases.length > 0) {
        throw new ConflictError(
          `Model ${name} still has alias(es) ${describeAliases(aliases)}; delete them first ` +
            `(DELETE /v1/models/${name}/aliases/{alias}).`,
        );
      }
      const versions = await manager.find(ModelVersion, {
        where: { modelId: model.id },
        select: { id: true },
      });
      await this.events.deleteAll(manager, model.id);
      await manager.delete(ModelVersion, { modelId: model.id });
      await manager.delete(RegisteredModel, { id: model.id });
      return versions.map((version) => version.id);
    });
    await this.events.changed(name);
    for (const id of versionIds) await this.deleteArtifact(id);
  }

  async listVersions(
    name: string,
    filter: { status?: VersionStatus; sort: VersionSort },
    limit: number,
    offset: number,
  ): Promise<Page<VersionWithAliases>> {
    const model = await this.findModel(name);
    const where = { modelId: model.id, ...(filter.status ? { status: filter.status } : {}) };
    let versions: ModelVersion[];
    let total: number;
    if (filter.sort.by === 'metric') {
      // Metrics live in a JSON column: rank a model's versions here (tens to thousands of rows).
      const all = (await this.versions.findBy(where)).sort(compareVersions(filter.sort));
      total = all.length;
      versions = all.slice(offset, offset + limit);
    } else {
      [versions, total] = await this.versions.findAndCount({
        where,
        order: { [filter.sort.by]: filter.sort.descending ? 'DESC' : 'ASC', version: 'DESC' },
        take: limit,
        skip: offset,
      });
    }
    const aliases = await this.aliases.findBy({ modelId: model.id });
    const items = versions.map((version) => ({
      model,
      version,
      aliases: aliasesOf(aliases, version.version),
    }));
    return { items, total, limit, offset };
  }

  async getVersion(name: string, versionNumber: number): Promise<VersionWithAliases> {
    const model = await this.findModel(name);
    const version = await this.findVersion(model, versionNumber);
    const aliases = await this.aliases.findBy({ modelId: model.id, version: versionNumber });
    return { model, version, aliases: aliases.map((a) => a.alias) };
  }

  /** Description, tags and status (archive or restore); the artifact itself never changes. */
  async updateVersion(
    name: string,
    versionNumber: number,
    changes: VersionChanges,
    actor: Actor,
  ): Promise<VersionWithAliases> {
    const statusChanged = await this.transactions.run(async (manager) => {
      const model = await this.lockModel(manager, name);
      const version = await this.findVersion(model, versionNumber, manager);
      const { status, ...edits } = changes;
      const newStatus = status !== undefined && status !== version.status ? status : undefined;
      if (newStatus === 'archived') {
        const aliases = await manager.findBy(ModelAlias, {
          modelId: model.id,
          version: versionNumber,
        });
        if (aliases.length > 0) {
          throw new ConflictError(
            `Version ${versionNumber} of ${name} is served by alias(es) ${describeAliases(aliases)}; ` +
              `move or delete them before archiving it.`,
          );
        }
      }
      await manager.update(
        ModelVersion,
        { id: version.id },
        { ...edits, ...(newStatus ? { status: newStatus } : {}) },
      );
      if (newStatus) {
        const action = newStatus === 'archived' ? 'version_archived' : 'version_restored';
        await this.events.record(manager, model.id, action, {
          toVersion: versionNumber,
          actor: actor.name,
        });
      }
      return newStatus !== undefined;
    });
    if (statusChanged) await this.events.changed(name);
    return this.getVersion(name, versionNumber);
  }

  async deleteVersion(name: string, versionNumber: number, actor: Actor): Promise<void> {
    const deletedId = await this.transactions.run(async (manager) => {
      const model = await this.lockModel(manager, name);
      const version = await this.findVersion(model, versionNumber, manager);
      const aliases = await manager.findBy(ModelAlias, {
        modelId: model.id,
        version: versionNumber,
      });
      if (aliases.length > 0) {
        throw new ConflictError(
          `Version ${versionNumber} of ${name} is served by alias(es) ${describeAliases(aliases)}; ` +
            `move or delete them before deleting it.`,
        );
      }
      await manager.delete(ModelVersion, { id: version.id });
      await this.events.record(manager, model.id, 'version_deleted', {
        fromVersion: versionNumber,
        actor: actor.name,
      });
      return version.id;
    });
    await this.events.changed(name);
    await this.deleteArtifact(deletedId);
  }

  async getArtifact(
    name: string,
    versionNumber: number,
  ): Promise<{ artifact: string; checksum: string }> {
    const model = await this.findModel(name);
    return this.readArtifact(await this.findVersion(model, versionNumber));
  }

  async loadArtifact(
    modelId: string,
    version: number,
  ): Promise<{ artifact: string; checksum: string }> {
    const row = await this.versions.findOne({
      where: { modelId, version },
      select: { id: true, checksum: true },
    });
    if (!row) throw new NotFoundError(`Version ${version} no longer exists.`);
    return this.readArtifact(row);
  }

  private async readArtifact(
    row: Pick<ModelVersion, 'id' | 'checksum'>,
  ): Promise<{ artifact: string; checksum: string }> {
    const content = await this.storage.get(artifactKey(row.id));
    if (!content) throw new Error(`the artifact of version ${row.id} is missing from storage`);
    return { artifact: content.toString('utf8'), checksum: row.checksum };
  }

  /**
   * Allocates the next version number and stores the version (and its alias, if asked) in one
   * transaction, creating the model when it does not exist yet. `commitWith` lets the caller commit
   * its own write with it (a training job becomes `succeeded` exactly when its version exists); when
   * it returns false nothing is registered and the result is null.
   */
  async registerVersion(input: NewModelVersion): Promise<VersionWithAliases>;
  async registerVersion(
    input: NewModelVersion,
    commitWith: CommitWithVersion,
  ): Promise<VersionWithAliases | null>;
  async registerVersion(
    input: NewModelVersion,
    commitWith?: CommitWithVersion,
  ): Promise<VersionWithAliases | null> {
    // The artifact is stored first: a version row always has its artifact. If the transaction
    // does not commit, the object is removed again (a crash in between leaves it unreferenced).
    const versionId = randomUUID();
    await this.storage.put(artifactKey(versionId), Buffer.from(input.artifact));
    let version: ModelVersion;
    try {
      version = await this.transactions.run(async (manager) => {
        const created = await this.insertVersion(manager, input, versionId);
        if (commitWith && !(await commitWith(manager, created))) throw new RegistrationDeclined();
        return created;
      });
    } catch (error) {
      await this.deleteArtifact(versionId);
      if (error instanceof RegistrationDeclined) return null;
      throw error;
    }
    await this.events.changed(input.model);
    return this.getVersion(input.model, version.version);
  }

  /**
   * Registers an externally trained model from an artifact in ModelDock's format; errors point at
   * the bad field (`artifact.coefficients[2]`). The stored text is the validated artifact, so an
   * exported artifact re-imports byte for byte.
   */
  async importVersion(
    name: string,
    request: {
      artifact: unknown;
      description?: string;
      tags?: Record<string, string>;
      alias?: string;
    },
    actor: Actor,
  ): Promise<VersionWithAliases> {
    assertName(name, 'model');
    if (request.alias !== undefined) assertName(request.alias, 'alias');
    const validation = validateArtifact(request.artifact);
    if (validation.errors) {
      const errors = validation.errors.map(({ field, message }) => ({
        field: field === '$' ? 'artifact' : `artifact.${field}`,
        message,
      }));
      const more = errors.length > 1 ? ` (${errors.length} problems, all listed in errors)` : '';
      throw new InvalidInputError(
        `The artifact is not a valid ${ARTIFACT_FORMATS.join(' or ')} document${more}: ${errors[0].message}`,
        errors,
      );
    }
    const { artifact } = validation;
    return this.registerVersion({
      model: name,
      algorithm: artifact.algorithm,
      format: artifact.format,
      artifact: JSON.stringify(artifact),
      inputSchema: artifact.inputs,
      outputSchema: [artifact.output],
      hyperparameters: {},
      metrics: {},
      lossHistory: [],
      dataset: null,
      trainingJobId: null,
      createdBy: 'import',
      actor,
      description: request.description ?? null,
      tags: request.tags ?? {},
      alias: request.alias ?? null,
    });
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

  /**
   * Promote or roll back: the next prediction request after this returns uses `version`.
   * `protect` (admin only) sets whether only an admin may move or delete the alias from now on.
   */
  async setAlias(
    name: string,
    alias: string,
    version: number,
    actor: Actor,
    protect?: boolean,
  ): Promise<ModelAlias> {
    assertName(alias, 'alias');
    if (protect !== undefined && actor.role !== 'admin') {
      throw new ForbiddenError(
        `Protecting or unprotecting an alias needs the admin role; the key "${actor.name}" has the ${actor.role} role.`,
      );
    }
    const row = await this.transactions.run(async (manager) => {
      const model = await this.lockModel(manager, name);
      return this.moveAlias(manager, model, alias, version, actor, protect);
    });
    await this.events.changed(name);
    return row;
  }

  /** Refuses early (403) a job that would move a protected alias its key may not move. */
  async assertMayMoveAlias(name: string, alias: string, actor: Actor): Promise<void> {
    const model = await this.models.findOneBy({ name });
    const row = model && (await this.aliases.findOneBy({ modelId: model.id, alias }));
    if (row) assertMayChange(row, actor, name);
  }

  async deleteAlias(name: string, alias: string, actor: Actor): Promise<void> {
    await this.transactions.run(async (manager) => {
      const model = await this.lockModel(manager, name);
      const row = await manager.findOneBy(ModelAlias, { modelId: model.id, alias });
      if (!row) throw new NotFoundError(`Model ${name} has no alias ${alias}.`);
      assertMayChange(row, actor, name);
      await manager.delete(ModelAlias, { modelId: model.id, alias });
      await this.events.record(manager, model.id, 'alias_deleted', {
        alias,
        fromVersion: row.version,
        actor: actor.name,
      });
    });
    await this.events.changed(name);
  }

  async listEvents(name: string, limit: number, offset: number) {
    const model = await this.findModel(name);
    return this.events.list(model.id, limit, offset);
  }

  /** Called with a model's name after every committed change to its versions or aliases. */
  onChange(listener: ChangeListener): void {
    this.events.onChange(listener);
  }

  /** A model's ready version numbers, oldest first: the versions a client may ask for by number. */
  async readyVersionNumbers(name: string): Promise<number[]> {
    const model = await this.findModel(name);
    const rows = await this.versions.find({
      where: { modelId: model.id, status: 'ready' },
      select: { version: true },
      order: { version: 'ASC' },
    });
    return rows.map((row) => row.version);
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
        `Model ${name} has no ready version to serve. Train or import one, or restore an archived one.`,
      );
    }
    if (version.status !== 'ready') {
      throw new ConflictError(
        `Version ${version.version} of ${name} is archived and does not serve. Restore it with ` +
          `PATCH /v1/models/${name}/versions/${version.version} {"status":"ready"}, or ask for another version.`,
      );
    }
    return { modelId: model.id, model: name, version: version.version, checksum: version.checksum };
  }

  private async insertVersion(
    manager: EntityManager,
    input: NewModelVersion,
    id: string,
  ): Promise<ModelVersion> {
    const existing = await manager.findOneBy(RegisteredModel, { name: input.model });
    const model = existing ?? (await this.insertModel(manager, input.model, {}, input.actor));
    // The UPDATE takes the row lock that serialises concurrent registrations of one model.
    await manager.update(
      RegisteredModel,
      { id: model.id },
      { lastVersion: () => 'last_version + 1', updatedAt: new Date() },
    );
    const { lastVersion } = await manager.findOneByOrFail(RegisteredModel, { id: model.id });
    const version = manager.create(ModelVersion, {
      id,
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
      datasetName: input.dataset?.name ?? null,
      datasetChecksum: input.dataset?.checksum ?? null,
      trainingJobId: input.trainingJobId,
      createdBy: input.createdBy,
      checksum: createHash('sha256').update(input.artifact).digest('hex'),
      sizeBytes: Buffer.byteLength(input.artifact),
      description: input.description,
      tags: input.tags,
    });
    await manager.insert(ModelVersion, version);
    await this.events.record(manager, model.id, 'version_created', {
      toVersion: lastVersion,
      actor: input.actor.name,
    });
    if (input.alias) await this.moveAlias(manager, model, input.alias, lastVersion, input.actor);
    return version;
  }

  private async moveAlias(
    manager: EntityManager,
    model: RegisteredModel,
    alias: string,
    version: number,
    actor: Actor,
    protect?: boolean,
  ): Promise<ModelAlias> {
    const target = await this.findVersion(model, version, manager);
    if (target.status !== 'ready') {
      throw new ConflictError(
        `Version ${version} of ${model.name} is archived, so alias ${alias} cannot point at it. ` +
          `Restore it first (PATCH /v1/models/${model.name}/versions/${version} {"status":"ready"}).`,
      );
    }
    const previous = await manager.findOneBy(ModelAlias, { modelId: model.id, alias });
    if (previous) assertMayChange(previous, actor, model.name);
    const row = {
      modelId: model.id,
      alias,
      version,
      protected: protect ?? previous?.protected ?? false,
      updatedAt: new Date(),
    };
    await manager.upsert(ModelAlias, row, ['modelId', 'alias']);
    await this.events.record(manager, model.id, 'alias_set', {
      alias,
      fromVersion: previous?.version ?? null,
      toVersion: version,
      actor: actor.name,
    });
    return row;
  }

  private async insertModel(
    manager: EntityManager,
    name: string,
    changes: ModelChanges,
    actor: Actor,
  ): Promise<RegisteredModel> {
    assertName(name, 'model');
    const now = new Date();
    const model = manager.create(RegisteredModel, {
      id: randomUUID(),
      name,
      description: changes.description ?? null,
      tags: changes.tags ?? {},
      lastVersion: 0,
      createdAt: now,
      updatedAt: now,
    });
    await manager.insert(RegisteredModel, model);
    await this.events.record(manager, model.id, 'model_created', { actor: actor.name });
    return model;
  }

  /**
   * Finds the model and touches its row first thing in the transaction: on PostgreSQL the UPDATE
   * holds a row lock until commit, so concurrent changes to one model apply one after another.
   */
  private async lockModel(manager: EntityManager, name: string): Promise<RegisteredModel> {
    const model = await this.findModel(name, manager);
    model.updatedAt = new Date();
    await manager.update(RegisteredModel, { id: model.id }, { updatedAt: model.updatedAt });
    return model;
  }

  /** After the version's row is gone; a failure leaves an unreferenced object, never a broken version. */
  private async deleteArtifact(versionId: string): Promise<void> {
    await this.storage.delete(artifactKey(versionId)).catch((error: unknown) => {
      this.logger.warn(`artifact of version ${versionId} not removed: ${String(error)}`);
    });
  }

  private async summarize(model: RegisteredModel): Promise<ModelSummary> {
    const [summary] = await this.summarizeAll([model]);
    return summary;
  }

  /** Latest versions and aliases of a page of models in two queries, not two per model. */
  private async summarizeAll(models: RegisteredModel[]): Promise<ModelSummary[]> {
    if (models.length === 0) return [];
    const ids = models.map((model) => model.id);
    const [latest, aliases] = await Promise.all([
      this.versions
        .createQueryBuilder('version')
        .select('version.modelId', 'modelId')
        .addSelect('MAX(version.version)', 'latest')
        .where({ modelId: In(ids) })
        .groupBy('version.modelId')
        .getRawMany<{ modelId: string; latest: number }>(),
      this.aliases.findBy({ modelId: In(ids) }),
    ]);
    const latestById = new Map(latest.map((row) => [row.modelId, Number(row.latest)]));
    return models.map((model) => ({
      model,
      latestVersion: latestById.get(model.id) ?? null,
      aliases: Object.fromEntries(
        aliases.filter((a) => a.modelId === model.id).map((a) => [a.alias, a.version]),
      ),
    }));
  }

  private async findModel(name: string, manager?: EntityManager): Promise<RegisteredModel> {
    const model = await (manager ?? this.models.manager).findOneBy(RegisteredModel, { name });
    if (!model) {
      throw new NotFoundError(`Model ${name} does not exist. List models with GET /v1/models.`);
    }
    return model;
  }

  private async findVersion(
    model: RegisteredModel,
    version: number,
    manager?: EntityManager,
  ): Promise<ModelVersion> {
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
}

function aliasesOf(aliases: ModelAlias[], version: number): string[] {
  return aliases.filter((a) => a.version === version).map((a) => a.alias);
}

function describeAliases(aliases: ModelAlias[]): string {
  return aliases.map((a) => `${a.alias} (v${a.version})`).join(', ');
}

function assertName(value: string, what: string): void {
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidInputError(`The ${what} name "${value}" is invalid: it ${NAME_RULE}.`, [
      { field: what, message: NAME_RULE },
    ]);
  }
}

/** A protected alias moves or goes only at an admin's hand. */
function assertMayChange(alias: ModelAlias, actor: Actor, model: string): void {
  if (alias.protected && actor.role !== 'admin') {
    throw new ForbiddenError(
      `Alias ${alias.alias} of ${model} is protected: moving or deleting it needs the admin role; ` +
        `the key "${actor.name}" has the ${actor.role} role.`,
    );
  }
}

function artifactKey(versionId: string): string {
  return `artifacts/${versionId}`;
}
