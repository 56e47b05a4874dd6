import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import type { Actor } from '../auth/roles';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { Page } from '../common/pagination';
import { TransactionsService } from '../database/transactions.service';
import { ARTIFACT_FORMATS, validateArtifact } from '../ml';
import type { ReferenceProfile } from '../ml/reference-profile';
import {
  assertMayChange,
  assertMayJoin,
  assertMayPointAt,
  assertMayProtect,
  assertNoAliases,
  assertNotServed,
} from './alias-rules';
import { ArtifactKind, artifactKindOf } from './artifact-kind';
import { ModelAlias } from './model-alias.entity';
import { ArtifactDigest, ModelArtifactsService } from './model-artifacts.service';
import { ModelVersion, ServingOptions, VersionStatus } from './model-version.entity';
import { RegisteredModel } from './registered-model.entity';
import { RegistryEventsService } from './registry-events.service';
import type { ModelEventAction } from './model-event.entity';
import { compareVersions, ModelFilter, VersionSort } from './registry-queries';

/** What a trainer (or an import) hands the registry to become a new immutable version. */
export interface NewModelVersion {
  model: string;
  algorithm: string;
  format: string;
  /** The artifact's bytes (a modeldock artifact is JSON text). */
  artifact: string | Buffer;
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
  /** How an ONNX version is served; absent for versions that need nothing. */
  serving?: ServingOptions;
  /** The artifact's sha256 and size when already computed (an upload hashed as it streamed in). */
  digest?: ArtifactDigest;
  /** What drift compares live inputs with (a trained version's training split); absent: none yet. */
  reference?: ReferenceProfile;
  /** The reference's value samples (encoded), stored beside the artifact before the row commits. */
  referenceSamples?: Buffer;
}

/** An alias's canary and shadow, as a PUT sets them (absent: none). */
export interface AliasRollout {
  canary?: { version: number; weight: number };
  shadow?: { version: number; fraction: number };
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

/** What an import carries besides the artifact. */
export interface ImportOptions {
  description?: string;
  tags?: Record<string, string>;
  alias?: string;
}

/** A version's artifact as stored, for download. */
export interface StoredArtifact {
  content: Buffer;
  checksum: string;
  kind: ArtifactKind;
}

/** What every imported version has: no training behind it, and the import's own options. */
export function importedVersionFields(options: ImportOptions, actor: Actor) {
  return {
    hyperparameters: {},
    metrics: {},
    lossHistory: [],
    dataset: null,
    trainingJobId: null,
    createdBy: 'import',
    actor,
    description: options.description ?? null,
    tags: options.tags ?? {},
    alias: options.alias ?? null,
  } satisfies Partial<NewModelVersion>;
}

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
 * Artifact bytes are kept by ModelArtifactsService; serving reads through ServingVersionsService.
 */
@Injectable()
export class ModelsService {
  private readonly deletionChecks: ModelDeletionCheck[] = [];

  constructor(
    @InjectRepository(RegisteredModel) private readonly models: Repository<RegisteredModel>,
    @InjectRepository(ModelVersion) private readonly versions: Repository<ModelVersion>,
    @InjectRepository(ModelAlias) private readonly aliases: Repository<ModelAlias>,
    private readonly events: RegistryEventsService,
    private readonly transactions: TransactionsService,
    private readonly artifacts: ModelArtifactsService,
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
      assertNoAliases(await manager.findBy(ModelAlias, { modelId: model.id }), name);
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
    for (const id of versionIds) await this.artifacts.delete(id);
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
        assertNotServed(await this.aliasesOf(manager, version), name, versionNumber, 'archiving');
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
      assertNotServed(await this.aliasesOf(manager, version), name, versionNumber, 'deleting');
      await manager.delete(ModelVersion, { id: version.id });
      await this.events.record(manager, model.id, 'version_deleted', {
        fromVersion: versionNumber,
        actor: actor.name,
      });
      return version.id;
    });
    await this.events.changed(name);
    await this.artifacts.delete(deletedId);
  }

  /** The artifact exactly as stored, with its checksum (the download's ETag). */
  async getArtifact(name: string, versionNumber: number): Promise<StoredArtifact> {
    const version = await this.findVersion(await this.findModel(name), versionNumber);
    const content = await this.artifacts.get(version.id);
    if (!content) throw new Error(`the artifact of version ${version.id} is missing from storage`);
    return { content, checksum: version.checksum, kind: artifactKindOf(version.format) };
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
    const content = Buffer.from(input.artifact);
    await this.artifacts.put(versionId, content, input.referenceSamples);
    const digest = input.digest ?? ModelArtifactsService.digest(content);
    let version: ModelVersion;
    try {
      version = await this.transactions.run(async (manager) => {
        const created = await this.insertVersion(manager, input, versionId, digest);
        if (commitWith && !(await commitWith(manager, created))) throw new RegistrationDeclined();
        return created;
      });
    } catch (error) {
      await this.artifacts.delete(versionId);
      if (error instanceof RegistrationDeclined) return null;
      throw error;
    }
    await this.events.changed(input.model);
    return this.getVersion(input.model, version.version);
  }

  /**
   * Registers an externally trained model from an artifact in ModelDock's format; errors point at
   * the bad field (`artifact.coefficients[2]`). The stored text is the validated artifact, so an
   * exported artifact re-imports byte for byte (same checksum).
   */
  async importVersion(
    name: string,
    artifactDocument: unknown,
    options: ImportOptions,
    actor: Actor,
  ): Promise<VersionWithAliases> {
    assertName(name, 'model');
    if (options.alias !== undefined) assertName(options.alias, 'alias');
    const validation = validateArtifact(artifactDocument);
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
      ...importedVersionFields(options, actor),
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
    rollout: AliasRollout = {},
  ): Promise<ModelAlias> {
    assertName(alias, 'alias');
    if (protect !== undefined) assertMayProtect(actor);
    const row = await this.transactions.run(async (manager) => {
      const model = await this.lockModel(manager, name);
      return this.moveAlias(manager, model, alias, version, actor, protect, rollout);
    });
    await this.events.changed(name);
    return row;
  }

  /** The canary becomes the alias's version and takes all its traffic. */
  async promoteCanary(name: string, alias: string, actor: Actor): Promise<ModelAlias> {
    return this.changeRollout(name, alias, actor, 'canary', async (manager, model, row) => {
      const canary = row.canaryVersion as number;
      assertMayPointAt(await this.findVersion(model, canary, manager), alias, name);
      await this.events.record(manager, model.id, 'canary_promoted', {
        alias,
        fromVersion: row.version,
        toVersion: canary,
        actor: actor.name,
      });
      // A shadow of the version promoted would shadow itself.
      const keepShadow = row.shadowVersion !== canary;
      return {
        version: canary,
        canaryVersion: null,
        canaryWeight: null,
        shadowVersion: keepShadow ? row.shadowVersion : null,
        shadowFraction: keepShadow ? row.shadowFraction : null,
      };
    });
  }

  /** The canary stops: the alias's version answers everything again. */
  async abortCanary(name: string, alias: string, actor: Actor): Promise<ModelAlias> {
    return this.changeRollout(name, alias, actor, 'canary', async (manager, model, row) => {
      await this.events.record(manager, model.id, 'canary_aborted', {
        alias,
        fromVersion: row.canaryVersion,
        toVersion: row.version,
        actor: actor.name,
      });
      return { canaryVersion: null, canaryWeight: null };
    });
  }

  async removeShadow(name: string, alias: string, actor: Actor): Promise<ModelAlias> {
    return this.changeRollout(name, alias, actor, 'shadow', async (manager, model, row) => {
      await this.events.record(manager, model.id, 'shadow_removed', {
        alias,
        fromVersion: row.shadowVersion,
        toVersion: row.version,
        actor: actor.name,
      });
      return { shadowVersion: null, shadowFraction: null };
    });
  }

  /** Applies `change` to an alias that has a canary (or shadow), in one transaction. */
  private async changeRollout(
    name: string,
    alias: string,
    actor: Actor,
    part: 'canary' | 'shadow',
    change: (
      manager: EntityManager,
      model: RegisteredModel,
      row: ModelAlias,
    ) => Promise<Partial<ModelAlias>>,
  ): Promise<ModelAlias> {
    const row = await this.transactions.run(async (manager) => {
      const model = await this.lockModel(manager, name);
      const current = await manager.findOneBy(ModelAlias, { modelId: model.id, alias });
      if (!current) throw new NotFoundError(`Model ${name} has no alias ${alias}.`);
      if ((part === 'canary' ? current.canaryVersion : current.shadowVersion) === null) {
        throw new NotFoundError(
          `Alias ${alias} of ${name} has no ${part}. Set one with PUT /v1/models/${name}/aliases/${alias} ` +
            `{ "version": ${current.version}, "${part}": ${part === 'canary' ? '{ "version": N, "weight": 0.1 }' : '{ "version": N, "fraction": 0.5 }'} }.`,
        );
      }
      assertMayChange(current, actor, name);
      const updated = {
        ...current,
        ...(await change(manager, model, current)),
        updatedAt: new Date(),
      };
      await manager.save(ModelAlias, updated);
      return updated;
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

  private async insertVersion(
    manager: EntityManager,
    input: NewModelVersion,
    id: string,
    digest: ArtifactDigest,
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
      checksum: digest.checksum,
      sizeBytes: digest.sizeBytes,
      description: input.description,
      tags: input.tags,
      serving: input.serving ?? null,
      reference: input.reference ?? null,
    });
    await manager.insert(ModelVersion, version);
    await this.events.record(manager, model.id, 'version_created', {
      toVersion: lastVersion,
      actor: input.actor.name,
    });
    if (input.alias) await this.moveAlias(manager, model, input.alias, lastVersion, input.actor);
    return version;
  }

  /** Sets the whole alias: its version, and the canary and shadow given (absent ones stop). */
  private async moveAlias(
    manager: EntityManager,
    model: RegisteredModel,
    alias: string,
    version: number,
    actor: Actor,
    protect?: boolean,
    rollout: AliasRollout = {},
  ): Promise<ModelAlias> {
    const target = await this.findVersion(model, version, manager);
    assertMayPointAt(target, alias, model.name);
    for (const part of ['canary', 'shadow'] as const) {
      const asked = rollout[part];
      if (!asked) continue;
      const candidate = await this.findVersion(model, asked.version, manager);
      assertMayPointAt(candidate, alias, model.name);
      assertMayJoin(target, candidate, part, model.name);
    }
    const previous = await manager.findOneBy(ModelAlias, { modelId: model.id, alias });
    if (previous) assertMayChange(previous, actor, model.name);
    const { canary, shadow } = rollout;
    const row = {
      modelId: model.id,
      alias,
      version,
      protected: protect ?? previous?.protected ?? false,
      canaryVersion: canary?.version ?? null,
      canaryWeight: canary?.weight ?? null,
      shadowVersion: shadow?.version ?? null,
      shadowFraction: shadow?.fraction ?? null,
      updatedAt: new Date(),
    };
    await manager.upsert(ModelAlias, row, ['modelId', 'alias']);
    const record = (
      action: ModelEventAction,
      fromVersion: number | null,
      toVersion: number | null,
    ) =>
      this.events.record(manager, model.id, action, {
        alias,
        fromVersion,
        toVersion,
        actor: actor.name,
      });
    await record('alias_set', previous?.version ?? null, version);
    if (canary) await record('canary_set', version, canary.version);
    else if (previous?.canaryVersion != null) {
      await record('canary_aborted', previous.canaryVersion, version);
    }
    if (shadow) await record('shadow_set', version, shadow.version);
    else if (previous?.shadowVersion != null) {
      await record('shadow_removed', previous.shadowVersion, version);
    }
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

  /** The aliases using a version as their version, canary or shadow. */
  private aliasesOf(manager: EntityManager, version: ModelVersion): Promise<ModelAlias[]> {
    const { modelId } = version;
    return manager.findBy(ModelAlias, [
      { modelId, version: version.version },
      { modelId, canaryVersion: version.version },
      { modelId, shadowVersion: version.version },
    ]);
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

export function assertName(value: string, what: string): void {
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidInputError(`The ${what} name "${value}" is invalid: it ${NAME_RULE}.`, [
      { field: what, message: NAME_RULE },
    ]);
  }
}
