import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';

/** Each thread of this process: its name and nice value, from /proc (Linux). */
function threadNiceValues(): number[] {
  const task = `/proc/${process.pid}/task`;
  return readdirSync(task).map((tid) => {
    // Fields after the command name, which is in parentheses; nice is the 19th field overall.
    const fields = readFileSync(`${task}/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[16]);
  });
}

const onLinux = process.platform === 'linux' ? it : it.skip;

describe('lowerThisThreadPriority', () => {
  onLinux('lowers the worker thread that calls it, and no other thread', async () => {
    // Other specs in this process may have left threads of their own at other values.
    const main = getPriority(0);
    const expected = Math.max(main, 7);
    const before = threadNiceValues();
    const module = path.join(__dirname, 'thread-priority.ts');
    const worker = new Worker(
      `require('ts-node/register/transpile-only');
       const { parentPort } = require('node:worker_threads');
       const lowered = require(${JSON.stringify(module)}).lowerThisThreadPriority(7);
       parentPort.postMessage(lowered);
       setInterval(() => undefined, 1000);`,
      { eval: true },
    );
    try {
      const lowered = await new Promise((resolve) => worker.once('message', resolve));
      expect(lowered).toBe(true);
      expect(getPriority(0)).toBe(main);
      if (expected === main) return; // this process already runs as low: nothing to lower
      const at = (values: number[]) => values.filter((nice) => nice === expected).length;
      expect(at(threadNiceValues())).toBe(at(before) + 1);
    } finally {
      await worker.terminate();
    }
  });
});
