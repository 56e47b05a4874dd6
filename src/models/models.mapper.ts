import { AliasResponse } from './dto/alias.dto';
import { ModelEventResponse } from './dto/model-event.dto';
import { ModelVersionResponse, ModelVersionSummaryResponse } from './dto/model-version.dto';
import { ModelResponse } from './dto/model.dto';
import { ModelAlias } from './model-alias.entity';
import { ModelEvent } from './model-event.entity';
import { ModelSummary, VersionWithAliases } from './models.service';

export function toModelResponse({ model, latestVersion, aliases }: ModelSummary): ModelResponse {
  return {
    name: model.name,
    description: model.description,
    tags: model.tags,
    latestVersion,
    aliases,
    createdAt: model.createdAt.toISOString(),
    updatedAt: model.updatedAt.toISOString(),
  };
}

export function toModelVersionResponse({
  model,
  version,
  aliases,
}: VersionWithAliases): ModelVersionResponse {
  return {
    model: model.name,
    version: version.version,
    status: version.status,
    algorithm: version.algorithm,
    format: version.format,
    inputSchema: version.inputSchema,
    outputSchema: version.outputSchema,
    hyperparameters: version.hyperparameters,
    metrics: version.metrics,
    lossHistory: version.lossHistory,
    dataset:
      version.datasetId && version.datasetChecksum
        ? { id: version.datasetId, name: version.datasetName, checksum: version.datasetChecksum }
        : null,
    trainingJob: version.trainingJobId,
    createdBy: version.createdBy,
    aliases,
    checksum: version.checksum,
    sizeBytes: version.sizeBytes,
    description: version.description,
    tags: version.tags,
    ...(version.serving ? { serving: version.serving } : {}),
    reference: version.reference,
    createdAt: version.createdAt.toISOString(),
  };
}

/**
 * For lists: everything but the loss history, which is summed up by its length and last value, and
 * the reference profile (bins of every feature: a page of versions would carry kilobytes each).
 */
export function toModelVersionSummaryResponse(
  item: VersionWithAliases,
): ModelVersionSummaryResponse {
  const { lossHistory, reference: _reference, ...rest } = toModelVersionResponse(item);
  return {
    ...rest,
    lossPoints: lossHistory.length,
    finalLoss: lossHistory.length > 0 ? lossHistory[lossHistory.length - 1] : null,
  };
}

export function toAliasResponse(model: string, alias: ModelAlias): AliasResponse {
  return {
    model,
    alias: alias.alias,
    version: alias.version,
    protected: alias.protected,
    canary:
      alias.canaryVersion === null
        ? null
        : { version: alias.canaryVersion, weight: Number(alias.canaryWeight) },
    shadow:
      alias.shadowVersion === null
        ? null
        : { version: alias.shadowVersion, fraction: Number(alias.shadowFraction) },
    updatedAt: alias.updatedAt.toISOString(),
  };
}

export function toModelEventResponse(event: ModelEvent): ModelEventResponse {
  return {
    id: event.id,
    action: event.action,
    alias: event.alias,
    fromVersion: event.fromVersion,
    toVersion: event.toVersion,
    actor: event.actor,
    createdAt: event.createdAt.toISOString(),
  };
}
