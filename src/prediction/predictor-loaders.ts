import { compilePredictor, Predictor, validateArtifact } from '../ml';
import type { ArtifactKind } from '../models/artifact-kind';
import type { ServingVersion } from '../models/serving-versions.service';
import type { BatchObserver } from '../onnx/dynamic-batcher';
import { OnnxServable } from '../onnx/onnx-servable';
import { OnnxSession, OnnxSessionSettings } from '../onnx/onnx-session';

/** What serving holds of a loaded version, by kind. */
export type Servable =
  { kind: 'modeldock'; predictor: Predictor } | { kind: 'onnx'; onnx: OnnxServable };

/** What loading needs besides the version: the runtime's settings and where batching reports. */
export interface LoadContext {
  onnx: OnnxSessionSettings;
  batches: BatchObserver;
}

/** Turns a version's artifact bytes into what serves it; one per kind of artifact. */
type Loader = (content: Buffer, version: ServingVersion, context: LoadContext) => Promise<Servable>;

/** `modeldock` artifacts: our JSON document, checked and compiled over typed arrays by `ml/`. */
const loadModeldock: Loader = (content, version) => {
  const result = validateArtifact(JSON.parse(content.toString('utf8')));
  if (!result.artifact) {
    throw new Error(
      `Stored artifact of ${version.model} v${version.version} is invalid: ${result.errors[0]?.message}`,
    );
  }
  return Promise.resolve({ kind: 'modeldock', predictor: compilePredictor(result.artifact) });
};

/** `onnx` artifacts: an onnxruntime session, warmed once, batched when the version says so. */
const loadOnnx: Loader = async (content, version, context) => {
  const session = await OnnxSession.load(content, context.onnx);
  await session.warmUp();
  const batching = version.serving?.batching ?? null;
  return {
    kind: 'onnx',
    onnx: new OnnxServable(session, batching, context.batches),
  };
};

const LOADERS: Record<ArtifactKind, Loader> = {
  modeldock: loadModeldock,
  onnx: loadOnnx,
};

/**
 * The one place serving gets what serves a version from, by its artifact's kind. A new kind adds
 * its loader above; what is cached, shared and refreshed stays in LoadedModelsService.
 */
export function loadServable(
  content: Buffer,
  version: ServingVersion,
  context: LoadContext,
): Promise<Servable> {
  return LOADERS[version.kind](content, version, context);
}
