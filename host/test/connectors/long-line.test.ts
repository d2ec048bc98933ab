// A very long line is assembled in time and memory linear in its length: a
// 40 MiB line goes through `host run` (file source -> file sink, built dist/)
// in a process whose V8 heap is capped at 40 MiB. Assembling it by appending
// each 64 KiB chunk to a string (as before) needs several copies of the line
// in the heap and dies "heap out of memory".
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');
const LINE_BYTES = 40 * 1024 * 1024;

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WEIR_CACHE_DIR: join(tmpdir(), 'weir-long-line-cache') } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('file source with a long line', () => {
  it('copies a 40 MiB line with a 40 MiB heap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-long-line-'));
    await writeFile(join(dir, 'in.txt'), Buffer.concat([Buffer.alloc(LINE_BYTES, 'x'), Buffer.from('\nend\n')]));
    const pipeline = {
      name: 'long-line',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.txt', format: 'lines' } },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['in'], config: { path: 'out.txt', format: 'lines' } },
      ],
    };
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify(pipeline));
    const { code, stderr } = await run(['--max-old-space-size=40', join(root, 'host/bin/host.js'), 'run', join(dir, 'pipeline.json'), '--no-watch']);
    expect(stderr).not.toContain('heap out of memory');
    expect(code).toBe(0);
    expect((await stat(join(dir, 'out.txt'))).size).toBe(LINE_BYTES + 5);
    expect((await readFile(join(dir, 'out.txt'))).subarray(LINE_BYTES - 2).toString()).toBe('xx\nend\n');
  });
});
