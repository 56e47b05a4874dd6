import { createHash } from 'node:crypto';
import { InvalidInputError } from '../common/errors';
import { validateArtifact } from '../ml';
import { exportOnnx } from '../onnx/export/onnx-export';
import { ARTIFACT_FILES } from './artifact-kind';
import type { StoredArtifact } from './models.service';

/** The formats a version's artifact downloads as: as stored, or as an ONNX graph. */
export const DOWNLOAD_FORMATS = ['stored', 'onnx'] as const;
export type DownloadFormat = (typeof DOWNLOAD_FORMATS)[number];

export interface ArtifactDownload {
  content: Buffer;
  /** sha256 of `content`: the download's ETag. */
  checksum: string;
  contentType: string;
  extension: string;
}

/**
 * A version's artifact in the format asked for. `onnx` of a version trained here is its model and
 * preprocessing built as an ONNX graph (onnx/export), which Triton, KServe or this registry serve;
 * of an ONNX version, the file as uploaded.
 */
export function artifactDownload(
  stored: StoredArtifact,
  format: DownloadFormat,
  model: { name: string; version: number },
): ArtifactDownload {
  if (format === 'stored' || stored.kind === 'onnx') {
    return { content: stored.content, checksum: stored.checksum, ...ARTIFACT_FILES[stored.kind] };
  }
  const { artifact } = validateArtifact(JSON.parse(stored.content.toString('utf8')));
  if (!artifact)
    throw new Error(`the stored artifact of ${model.name} v${model.version} is invalid`);
  let graph: Uint8Array;
  try {
    graph = exportOnnx(artifact, { modelName: model.name, version: model.version });
  } catch (error) {
    // The one refusal: a string feature named like an output of the graph.
    throw new InvalidInputError(`This version cannot be exported as ONNX: ${String(error)}`);
  }
  const content = Buffer.from(graph.buffer, graph.byteOffset, graph.byteLength);
  return {
    content,
    checksum: createHash('sha256').update(content).digest('hex'),
    ...ARTIFACT_FILES.onnx,
  };
}
