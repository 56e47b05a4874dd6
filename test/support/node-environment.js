// The Node test environment, with this process's own typed-array constructors in the test's realm.
// Jest runs each spec in a fresh vm context whose Float32Array is not Node's; onnxruntime-node's
// native binding makes tensors from Node's, and onnxruntime-common checks `instanceof` against the
// context's, so every tensor fails ("A float32 tensor's data must be type of function
// Float32Array()": onnxruntime#16622, jest#11864). Production has one realm and never sees this.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = NodeEnvironment;
