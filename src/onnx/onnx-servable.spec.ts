import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Tensor } from '../tensors/datatypes';
import { OnnxServable } from './onnx-servable';
import { OnnxSession } from './onnx-session';

const MLP = readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'onnx', 'mlp.onnx'));
const rows = (count: number): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [count, 4],
  data: Float32Array.from({ length: count * 4 }, (_, i) => Math.sin(i)),
});

async function servable(batching = false) {
  const session = await OnnxSession.load(MLP, { intraOpThreads: 1 });
  const released = jest.spyOn(session, 'release');
  const served = new OnnxServable(
    session,
    batching ? { maxBatchSize: 8, maxQueueDelayMicros: 0 } : null,
  );
  return { session, served, released };
}

describe('OnnxServable', () => {
  it('releases its session only after the inferences in flight are done', async () => {
    const { served, released } = await servable();
    const running = served.infer([rows(2)], ['probabilities']);
    const retired = served.retire();
    expect(released).not.toHaveBeenCalled();
    const [probabilities] = await running;
    expect(probabilities.shape).toEqual([2, 3]);
    await retired;
    expect(released).toHaveBeenCalledTimes(1);
    await served.retire(); // once only
    expect(released).toHaveBeenCalledTimes(1);
  });

  it('batches concurrent requests and hands each its own rows, the outputs asked for', async () => {
    const { served, session } = await servable(true);
    expect(served.batching).toBe(true);
    const requests = [1, 3, 2, 5].map(rows);
    // infer takes the inputs' memory: each request gets its own copy.
    const copy = (input: Tensor): Tensor => ({
      ...input,
      data: (input.data as Float32Array).slice(),
    });
    const answers = await Promise.all(
      requests.map((input) => served.infer([copy(input)], ['probabilities'])),
    );
    for (const [i, input] of requests.entries()) {
      const [alone] = await session.run([input], ['probabilities']);
      expect(answers[i][0].shape).toEqual(alone.shape);
      expect(Array.from(answers[i][0].data as Float32Array)).toEqual(
        Array.from(alone.data as Float32Array),
      );
    }
    await served.retire();
  });

  it('runs an empty batch on its own (a batch cannot join zero rows)', async () => {
    const { served } = await servable(true);
    const [probabilities] = await served.infer([rows(0)], ['probabilities']);
    expect(probabilities.shape).toEqual([0, 3]);
    await served.retire();
  });
});
