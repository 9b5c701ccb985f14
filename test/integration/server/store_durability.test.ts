import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TranscriptStore } from '../../../src/store/transcript_store.ts';

const CHILD = fileURLToPath(new URL('./store_writer_child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'earshot-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('transcript store durability', () => {
  it('keeps every utterance committed before a SIGKILL', async () => {
    const path = join(dir, 'store.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const committed: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) committed.push(line.replace('committed ', ''));
        // Kill mid-stream, while the child keeps writing.
        if (committed.length >= 25) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code) =>
        committed.length < 25 ? reject(new Error(`child exited ${code}: ${stderr}`)) : undefined,
      );
    });
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
    );
    expect(child.signalCode).toBe('SIGKILL');

    const store = TranscriptStore.open({ path });
    try {
      const stored = store.getUtterances('sess_killed');
      const ids = new Set(stored.map((u) => u.itemId));
      for (const id of committed) expect(ids.has(id), id).toBe(true);
      expect(stored.find((u) => u.itemId === 'item_7')?.transcript).toBe('utterance number 7');
      expect(store.closeDanglingSessions()).toBe(1);
      expect(store.getSession('sess_killed')?.endReason).toBe('interrupted');
    } finally {
      store.close();
    }
  }, 30_000);
});
