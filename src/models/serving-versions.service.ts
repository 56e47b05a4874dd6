import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ConflictError, NotFoundError } from '../common/errors';
import { ArtifactKind, artifactKindOf } from './artifact-kind';
import { ModelAlias } from './model-alias.entity';
import { ModelArtifactsService } from './model-artifacts.service';
import { ModelVersion, SchemaEntry, ServingOptions, VersionStatus } from './model-version.entity';
import { RegisteredModel } from './registered-model.entity';
import { ChangeListener, RegistryEventsService } from './registry-events.service';

export type VersionSelector = { version?: number; alias?: string };

/** What `{}` serves: this alias, else the latest ready version. */
export const DEFAULT_SERVING_ALIAS = 'production';

/** The version a prediction request resolves to, with what loading it needs. */
export interface ServingVersion {
  modelId: string;
  model: string;
  version: number;
  /** The version row's id: its artifact's key. */
  versionId: string;
  checksum: string;
  format: string;
  kind: ArtifactKind;
  algorithm: string;
  sizeBytes: number;
  /** The graph's tensors, for ONNX versions. */
  inputSchema: SchemaEntry[];
  outputSchema: SchemaEntry[];
  serving: ServingOptions | null;
  /** How the alias the selector went through splits its traffic; null without an alias. */
  routing: AliasRouting | null;
}

/** An alias's traffic: its version, and optionally a canary share and a shadow. */
export interface AliasRouting {
  alias: string;
  canary: { version: number; weight: number } | null;
  shadow: { version: number; fraction: number } | null;
}

interface ResolvedRow {
  modelId: string;
  aliasVersion: number | null;
  canaryVersion: number | null;
  canaryWeight: number | null;
  shadowVersion: number | null;
  shadowFraction: number | null;
  versionId: string | null;
  version: number | null;
  status: VersionStatus | null;
  format: string | null;
  algorithm: string | null;
  checksum: string | null;
  sizeBytes: number | null;
  inputSchema: string | null;
  outputSchema: string | null;
  serving: string | null;
}

/**
 * The registry as serving reads it: which version a selector serves (one query), its artifact
 * (one storage read), and a call after every committed change so serving can follow it.
 */
@Injectable()
export class ServingVersionsService {
  constructor(
    @InjectRepository(RegisteredModel) private readonly models: Repository<RegisteredModel>,
    @InjectRepository(ModelVersion) private readonly versions: Repository<ModelVersion>,
    private readonly artifacts: ModelArtifactsService,
    private readonly events: RegistryEventsService,
  ) {}

  /**
   * name + (version | alias | default) → the version that serves: the version asked for, the
   * alias's, or by default alias `production`, else the latest ready one. One query reads the
   * model, the alias and the version row together.
   */
  async resolve(name: string, selector: VersionSelector): Promise<ServingVersion> {
    const byNumber = selector.version !== undefined;
    const alias = byNumber ? null : (selector.alias ?? DEFAULT_SERVING_ALIAS);
    const latestReady =
      '(SELECT MAX(ready.version) FROM model_versions ready ' +
      "WHERE ready.model_id = model.id AND ready.status = 'ready')";
    const target = byNumber
      ? ':version'
      : selector.alias !== undefined
        ? 'alias.version'
        : `COALESCE(alias.version, ${latestReady})`;
    const row = await this.models
      .createQueryBuilder('model')
      .select('model.id', 'modelId')
      .addSelect('alias.version', 'aliasVersion')
      .addSelect('alias.canaryVersion', 'canaryVersion')
      .addSelect('alias.canaryWeight', 'canaryWeight')
      .addSelect('alias.shadowVersion', 'shadowVersion')
      .addSelect('alias.shadowFraction', 'shadowFraction')
      .addSelect('version.id', 'versionId')
      .addSelect('version.version', 'version')
      .addSelect('version.status', 'status')
      .addSelect('version.format', 'format')
      .addSelect('version.algorithm', 'algorithm')
      .addSelect('version.checksum', 'checksum')
      .addSelect('version.sizeBytes', 'sizeBytes')
      .addSelect('version.inputSchema', 'inputSchema')
      .addSelect('version.outputSchema', 'outputSchema')
      .addSelect('version.serving', 'serving')
      .leftJoin(ModelAlias, 'alias', 'alias.modelId = model.id AND alias.alias = :alias', {
        alias: alias ?? '',
      })
      .leftJoin(
        ModelVersion,
        'version',
        `version.modelId = model.id AND version.version = ${target}`,
        {
          version: selector.version,
        },
      )
      .where('model.name = :name', { name })
      .getRawOne<ResolvedRow>();

    if (!row) {
      throw new NotFoundError(`Model ${name} does not exist. List models with GET /v1/models.`);
    }
    if (selector.alias !== undefined && row.aliasVersion === null) {
      throw new NotFoundError(
        `Model ${name} has no alias ${selector.alias}. Set it with PUT /v1/models/${name}/aliases/${selector.alias} { "version": N }.`,
      );
    }
    if (row.versionId === null || row.version === null) {
      if (byNumber) {
        throw new NotFoundError(
          `Model ${name} has no version ${selector.version}. List versions with GET /v1/models/${name}/versions.`,
        );
      }
      throw new ConflictError(
        `Model ${name} has no ready version to serve. Train or import one, or restore an archived one.`,
      );
    }
    const version = Number(row.version);
    if (row.status !== 'ready') {
      throw new ConflictError(
        `Version ${version} of ${name} is archived and does not serve. Restore it with ` +
          `PATCH /v1/models/${name}/versions/${version} {"status":"ready"}, or ask for another version.`,
      );
    }
    const format = row.format as string;
    return {
      modelId: row.modelId,
      model: name,
      version,
      versionId: row.versionId,
      checksum: row.checksum as string,
      format,
      kind: artifactKindOf(format),
      algorithm: row.algorithm as string,
      sizeBytes: Number(row.sizeBytes),
      // Raw selects skip the entity's simple-json transform.
      inputSchema: JSON.parse(row.inputSchema as string) as SchemaEntry[],
      outputSchema: JSON.parse(row.outputSchema as string) as SchemaEntry[],
      serving: row.serving === null ? null : (JSON.parse(row.serving) as ServingOptions),
      routing: alias !== null && row.aliasVersion !== null ? routingOf(alias, row) : null,
    };
  }

  /** The artifact's bytes of a resolved version. */
  async artifact(serving: ServingVersion): Promise<Buffer> {
    const content = await this.artifacts.get(serving.versionId);
    if (!content) {
      // The row was deleted since it resolved (its artifact goes right after the row).
      throw new NotFoundError(`Version ${serving.version} of ${serving.model} no longer exists.`);
    }
    return content;
  }

  /** A model's ready version numbers, oldest first: the versions a client may ask for by number. */
  async readyVersionNumbers(name: string): Promise<number[]> {
    const rows = await this.versions
      .createQueryBuilder('version')
      .select('version.version', 'version')
      .innerJoin(RegisteredModel, 'model', 'model.id = version.modelId')
      .where('model.name = :name', { name })
      .andWhere("version.status = 'ready'")
      .orderBy('version.version', 'ASC')
      .getRawMany<{ version: number }>();
    if (rows.length === 0 && !(await this.models.existsBy({ name }))) {
      throw new NotFoundError(`Model ${name} does not exist. List models with GET /v1/models.`);
    }
    return rows.map((row) => Number(row.version));
  }

  /** Called with a model's name after every committed change to its versions or aliases. */
  onChange(listener: ChangeListener): void {
    this.events.onChange(listener);
  }
}

function routingOf(alias: string, row: ResolvedRow): AliasRouting {
  return {
    alias,
    canary:
      row.canaryVersion === null
        ? null
        : { version: Number(row.canaryVersion), weight: Number(row.canaryWeight) },
    shadow:
      row.shadowVersion === null
        ? null
        : { version: Number(row.shadowVersion), fraction: Number(row.shadowFraction) },
  };
}
