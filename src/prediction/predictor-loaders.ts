import { compilePredictor, Predictor, validateArtifact } from '../ml';
import type { ArtifactKind } from '../models/artifact-kind';
import type { ServingVersion } from '../models/serving-versions.service';

/** Turns a version's artifact bytes into a predictor; one per kind of artifact. */
export type PredictorLoader = (content: Buffer, version: ServingVersion) => Promise<Predictor>;

/** `modeldock` artifacts: our JSON document, checked and compiled over typed arrays by `ml/`. */
const loadModeldock: PredictorLoader = (content, version) => {
  const result = validateArtifact(JSON.parse(content.toString('utf8')));
  if (!result.artifact) {
    throw new Error(
      `Stored artifact of ${version.model} v${version.version} is invalid: ${result.errors[0]?.message}`,
    );
  }
  return Promise.resolve(compilePredictor(result.artifact));
};

const LOADERS: Record<ArtifactKind, PredictorLoader> = {
  modeldock: loadModeldock,
};

/**
 * The one place serving gets a predictor of a version from, by its artifact's kind. A new kind
 * adds its loader above; what is cached, shared and refreshed stays in LoadedModelsService.
 */
export function loadPredictor(content: Buffer, version: ServingVersion): Promise<Predictor> {
  return LOADERS[version.kind](content, version);
}
