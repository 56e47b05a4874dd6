import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Tensor } from '../tensors/datatypes';
import { OnnxSession } from './onnx-session';

const fixture = (name: string) =>
  readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'onnx', name));
const settings = { intraOpThreads: 1 };
const rows = (count: number): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [count, 4],
  data: Float32Array.from({ length: count * 4 }, (_, i) => Math.cos(i)),
});

describe('OnnxSession', () => {
  it('answers the same on the event loop (a cheap graph, few rows) as in its thread', async () => {
    const session = await OnnxSession.load(fixture('mlp.onnx'), settings);
    const [inThread] = await session.run([rows(2)], ['probabilities']);
    expect(await session.warmUp()).toBe(true);
    // A few-microsecond MLP: the hop to the thread would cost more than the inference.
    expect(session.runsInline).toBe(true);
    const [inline] = await session.run([rows(2)], ['probabilities']);
    expect(inline.shape).toEqual([2, 3]);
    expect(Array.from(inline.data as Float32Array)).toEqual(
      Array.from(inThread.data as Float32Array),
    );
    // Many rows exceed the budget: the thread runs them.
    const [large] = await session.run([rows(5000)], ['probabilities']);
    expect(large.shape).toEqual([5000, 3]);
    await session.release();
  });

  it('keeps a network in its thread', async () => {
    const session = await OnnxSession.load(fixture('fr_detect.onnx'), settings);
    expect(await session.warmUp()).toBe(true);
    expect(session.runsInline).toBe(false);
    await session.release();
  });

  it('refuses runs once released, saying so', async () => {
    const session = await OnnxSession.load(fixture('mlp.onnx'), settings);
    await session.release();
    await expect(session.run([rows(1)], ['probabilities'])).rejects.toThrow(/released/);
  });

  it('reports a graph the runtime cannot load, from its thread', async () => {
    await expect(OnnxSession.load(fixture('bad/unknown_op.onnx'), settings)).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/operator com\.example:NoSuchOp/),
    });
  });
});
