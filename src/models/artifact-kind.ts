/**
 * What kind of artifact a version holds, which decides how serving loads it. Derived from the
 * version's `format` column (`modeldock/v2` → `modeldock`), so a new kind needs no migration:
 * its formats are named `<kind>/<revision>`.
 */
export const ARTIFACT_KINDS = ['modeldock', 'onnx'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export function artifactKindOf(format: string): ArtifactKind {
  const kind = format.slice(0, format.indexOf('/'));
  if (!(ARTIFACT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`unknown artifact format ${format}: its kind must be one of ${ARTIFACT_KINDS}`);
  }
  return kind as ArtifactKind;
}

/** How a downloaded artifact of each kind is labelled. */
export const ARTIFACT_FILES: Record<ArtifactKind, { contentType: string; extension: string }> = {
  modeldock: { contentType: 'application/json', extension: 'json' },
  onnx: { contentType: 'application/octet-stream', extension: 'onnx' },
};

/** An ONNX version's format: its kind and the file's IR version (`onnx/ir8`). */
export function onnxFormat(irVersion: number): string {
  return `onnx/ir${irVersion}`;
}
