import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_V1 } from '../ml';
import { artifactKindOf, onnxFormat } from './artifact-kind';

describe('artifact kinds', () => {
  it('reads the kind from every format our artifacts are stored with', () => {
    expect(artifactKindOf(ARTIFACT_FORMAT_V1)).toBe('modeldock');
    expect(artifactKindOf(ARTIFACT_FORMAT)).toBe('modeldock');
    expect(artifactKindOf(onnxFormat(8))).toBe('onnx');
  });

  it('refuses a format of no known kind rather than serving it with the wrong loader', () => {
    expect(() => artifactKindOf('onnx')).toThrow(/unknown artifact format onnx/);
    expect(() => artifactKindOf('pickle/v1')).toThrow(/unknown artifact format/);
  });
});
