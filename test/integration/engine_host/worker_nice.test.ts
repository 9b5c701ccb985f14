import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngineHost } from '../../../src/engine/engine_host.ts';
import { tinyModelDir } from './engine_fixture.ts';

/** Nice values of this process's threads (Linux /proc: field 19 of each task's stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(afterName[16]);
  });
}

describe.runIf(process.platform === 'linux')('engine.worker_nice', () => {
  it('lowers the engine worker thread and the threads it starts, not the rest of the process', async () => {
    expect(threadNiceValues()).not.toContain(7);
    const host = createEngineHost({ modelDir: await tinyModelDir(), intraOpNumThreads: 1, workerNice: 7 });
    try {
      await host.ready;
      const values = threadNiceValues();
      const lowered = values.filter((n) => n === 7).length;
      expect(lowered).toBeGreaterThanOrEqual(1);
      expect(lowered).toBeLessThan(values.length);
      // The main thread keeps its priority.
      const mainStat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
      expect(Number(mainStat.slice(mainStat.lastIndexOf(')') + 2).split(' ')[16])).toBe(0);
    } finally {
      await host.close();
    }
  });
});
