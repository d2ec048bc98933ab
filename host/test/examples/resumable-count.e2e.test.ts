/**
 * examples/resumable-count as its README runs it: `host run`, `kill -9` once
 * a checkpoint has completed and output has been written, `host run` again,
 * then a stop. Across both runs every generated record is counted exactly
 * once: the `seq` numbers in the output are 0, 1, 2, ... with no gap and no
 * repeat, and each key's `count` header goes 1, 2, 3, ... in file order.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointCompleted, startHost, untilOrExit } from '../../../scripts/checkpoint-workload.js';

const root = join(import.meta.dirname, '../../..');

function outputLines(file: string): Array<{ key: string; seq: number; count: number }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const record = JSON.parse(line) as { key: string; value: string; headers: { count: string } };
      return { key: record.key, seq: (JSON.parse(record.value) as { seq: number }).seq, count: Number(record.headers.count) };
    });
}

describe('examples/resumable-count', () => {
  it('kill -9 and a restart: every record counted exactly once, counts continue per key', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-resumable-'));
    cpSync(join(root, 'examples/resumable-count'), dir, { recursive: true });
    const pipelineFile = join(dir, 'pipeline.json');
    const pipeline = JSON.parse(readFileSync(pipelineFile, 'utf8')) as { plugins: { dir: string } };
    pipeline.plugins.dir = join(root, 'plugins');
    writeFileSync(pipelineFile, JSON.stringify(pipeline));
    const output = join(dir, 'out/output.jsonl');
    const db = join(dir, '.weir/resumable-count/checkpoint.db');
    const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));
    const size = () => (existsSync(output) ? statSync(output).size : 0);

    const first = startHost(pipelineFile, { cacheDir });
    expect(await untilOrExit(first, async () => existsSync(db) && (await checkpointCompleted(db, 'out')) && size() > 20_000)).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    const afterCrash = size();

    const second = startHost(pipelineFile, { cacheDir, logLevel: 'info' });
    expect(await untilOrExit(second, () => size() > afterCrash + 20_000)).toBe(true);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(second.output()).toContain('resuming from the stored checkpoint');

    const lines = outputLines(output);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i));
    const counts = new Map<string, number>();
    for (const { key, count } of lines) {
      expect(count).toBe((counts.get(key) ?? 0) + 1);
      counts.set(key, count);
    }
    expect(counts.size).toBe(5);
  });
});
