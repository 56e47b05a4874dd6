import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { encodeTabularData } from '../datasets/column-codec';
import type { TabularData } from '../datasets/tabular-data';
import { resolveHyperparameters } from '../ml';
import runTraining, { TrainingTask } from './training.thread';

/** y = 1 + 2·x1 − 3·x2, with a string column the job does not use between them. */
function table(): TabularData {
  const n = 50;
  const x1 = Float64Array.from({ length: n }, (_, i) => i % 7);
  const x2 = Float64Array.from({ length: n }, (_, i) => (i * 3) % 5);
  return {
    rowCount: n,
    columns: [
      { name: 'x1', type: 'number', values: x1 },
      { name: 'note', type: 'string', values: Array.from({ length: n }, (_, i) => `row ${i}`) },
      { name: 'x2', type: 'number', values: x2 },
      { name: 'y', type: 'number', values: x1.map((v, i) => 1 + 2 * v - 3 * x2[i]) },
    ],
  };
}

describe('the training thread', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'modeldock-thread-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const task = (data: TrainingTask['data']): TrainingTask => ({
    input: {
      algorithm: 'linear-regression',
      hyperparameters: resolveHyperparameters('linear-regression', { optimizer: 'normal-equation' })
        .hyperparameters,
      validationSplit: 0,
      seed: 1,
    },
    features: ['x2', 'x1'],
    target: 'y',
    data,
    progressPort: new MessageChannel().port1,
  });

  it('trains the same model from the dataset file as from its stored bytes', () => {
    const file = path.join(dir, 'dataset');
    writeFileSync(file, encodeTabularData(table()));
    const fromFile = runTraining(task({ file }));
    const fromBytes = runTraining(task({ encoded: encodeTabularData(table()) }));
    expect(fromFile).toMatchObject({ ok: true });
    expect(fromBytes).toMatchObject({ ok: true });
    if (!fromFile.ok || !fromBytes.ok) return;
    expect(fromFile.result.artifact).toEqual(fromBytes.result.artifact);
    expect(fromFile.result.artifact.inputs.map((input) => input.name)).toEqual(['x2', 'x1']);
  });

  it('fails the job, saying so, when the dataset file is gone', () => {
    const outcome = runTraining(task({ file: path.join(dir, 'gone') }));
    expect(outcome).toMatchObject({
      ok: false,
      userError: false,
      message: expect.stringContaining('the contents of the dataset are missing from storage'),
    });
  });
});
