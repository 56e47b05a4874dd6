import type { FeatureDrift } from '../ml/drift';
import type { DriftReport } from './drift.service';
import type { DriftResponse, FeatureDriftResponse } from './dto/drift.dto';

export function toDriftResponse(report: DriftReport): DriftResponse {
  return {
    model: report.model,
    version: report.version,
    from: report.from.toISOString(),
    to: report.to.toISOString(),
    sampleSize: report.sampleSize,
    skippedRequests: report.skippedRequests,
    referenceSize: report.referenceSize,
    status: report.status,
    features: report.features.map(toFeatureDriftResponse),
    predictions: report.predictions && toFeatureDriftResponse(report.predictions),
  };
}

function toFeatureDriftResponse(drift: FeatureDrift): FeatureDriftResponse {
  return {
    name: drift.name,
    kind: drift.kind,
    status: drift.status,
    rated: drift.rated,
    sampleSize: drift.sampleSize,
    referenceSize: drift.referenceSize,
    psi: drift.psi,
    ...(drift.ks ? { ks: drift.ks } : {}),
    ...(drift.wasserstein !== undefined ? { wasserstein: drift.wasserstein } : {}),
    ...(drift.jensenShannon !== undefined ? { jensenShannon: drift.jensenShannon } : {}),
    missingRate: drift.missingRate,
    ...(drift.bins ? { bins: drift.bins } : {}),
    ...(drift.categories ? { categories: drift.categories } : {}),
  };
}
