import { InvalidInputError } from '../common/errors';
import { Tensor } from '../tensors/datatypes';
import type { TensorSpec } from './model-inspection';

const describeShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Checks request tensors against the graph's inputs before anything runs: every input given once,
 * no other, each with the graph's datatype and rank and its fixed dimensions. Errors name the
 * input, what the graph expects and what came. Returns the inputs in the graph's order.
 */
export function checkInputs(tensors: readonly Tensor[], expected: readonly TensorSpec[]): Tensor[] {
  const byName = new Map<string, Tensor>();
  for (const tensor of tensors) {
    if (byName.has(tensor.name))
      throw new InvalidInputError(`Input ${tensor.name} is given twice.`);
    byName.set(tensor.name, tensor);
  }
  const names = expected.map((spec) => spec.name);
  for (const tensor of tensors) {
    if (!names.includes(tensor.name)) {
      throw new InvalidInputError(
        `Input ${tensor.name} is not an input of this model; it takes ${expected.map(describeSpec).join(', ')}.`,
      );
    }
  }
  return expected.map((spec) => {
    const tensor = byName.get(spec.name);
    if (!tensor) {
      throw new InvalidInputError(
        `Input ${spec.name} is missing: this model takes ${expected.map(describeSpec).join(', ')}.`,
      );
    }
    if (tensor.datatype !== spec.datatype) {
      throw new InvalidInputError(
        `Input ${spec.name} is ${tensor.datatype}; the model takes ${spec.datatype} ${describeShape(spec.shape)}. Send it as ${spec.datatype}.`,
      );
    }
    const fits =
      tensor.shape.length === spec.shape.length &&
      spec.shape.every((dimension, i) => dimension < 0 || dimension === tensor.shape[i]);
    if (!fits) {
      throw new InvalidInputError(
        `Input ${spec.name} has shape ${describeShape(tensor.shape)}; the model takes ${describeShape(spec.shape)} (-1: any size).`,
      );
    }
    return tensor;
  });
}

export function describeSpec(spec: TensorSpec): string {
  return `${spec.name} (${spec.datatype} ${describeShape(spec.shape)})`;
}
