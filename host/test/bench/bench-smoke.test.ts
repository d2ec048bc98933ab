// Keeps the benchmark harness from rotting: `npm run bench -- --quick` must build and
// measure every implementation and write a complete report. Figures are not checked
// here (speed targets are proven by `npm run bench`, never by timed assertions). Quick mode
// samples each figure a couple of times only (a slow call is not repeated 64 times), swaps a
// build once per plugin: every bench path runs and is reported, nothing is measured well. The
// time limit only guards against a hang: from a fresh clone (no bench/.work yet) on two idle
// cores the run takes about a minute and a half.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');

describe('npm run bench -- --quick', () => {
  it('measures every implementation and writes RESULTS.md with its chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
    const result = spawnSync(process.execPath, [join(root, 'bench/run.js'), '--quick', '--out', join(dir, 'RESULTS.md')], { cwd: root, encoding: 'utf8', timeout: 900_000 });
    expect(result.stderr).toContain('wrote');
    expect(result.status).toBe(0);
    const report = readFileSync(join(dir, 'RESULTS.md'), 'utf8');
    expect(report).not.toContain('Not measured in this run');
    for (const section of [
      '## Call cost by batch size', '## Canonical ABI', '## Pipeline throughput', '## Where the time goes', '## Start-up', '## Memory per plugin instance',
      '## Limits overhead', '## CPU budget against wall time', '## Nexmark', '## Hot reload', '## Outgoing HTTP', '## Targets',
      '## End to end, file to file', '## Flat memory on a long stream', '## Latency of a lone record', '## Parallelism scaling', '### Issue 17',
    ]) {
      expect(report).toContain(section);
    }
    // Every call-cost cell was measured (a failed batch size is recorded with its error, not thrown).
    const raw = JSON.parse(readFileSync(join(dir, 'RESULTS.json'), 'utf8')) as {
      micro: Array<{ id: string; batchSize: number; error?: string }>;
      reload: unknown[];
      rewire: unknown[];
      fileToFile: Array<{ id: string; error?: string }>;
      flatMemory: unknown[];
      latency: unknown[];
      scaling: Array<{ mode: string }>;
    };
    expect(raw.micro.filter((row) => row.error !== undefined)).toEqual([]);
    expect(raw.reload.length).toBeGreaterThan(0);
    expect(raw.rewire.length).toBeGreaterThan(0);
    // Every end-to-end path ran and wrote the plain script's output (a refused path carries its error).
    expect(raw.fileToFile.map((row) => [row.id, row.error])).toEqual(['plain', 'extism', 'weir-as', 'weir-rust', 'weir-js', 'weir-as-p2'].map((id) => [id, undefined]));
    expect(raw.flatMemory).toHaveLength(2);
    expect(raw.latency).toHaveLength(2);
    expect(raw.scaling.map((row) => row.mode)).toEqual(['none', 'none', 'fuel', 'fuel', 'worker', 'worker', 'fuel, thread worker', 'fuel, thread worker']);
    for (const label of ['plain JS function', 'AssemblyScript module', 'Rust component (process-packed', 'Rust component, typed process (list<record>)', 'componentize-qjs', 'componentize-js', 'Extism']) {
      expect(report).toContain(label);
    }
    expect(report).toMatch(/Machine: .+ cores/);
    expect(existsSync(join(dir, 'RESULTS-throughput.svg'))).toBe(true);
    expect(readFileSync(join(dir, 'RESULTS-throughput.svg'), 'utf8')).toContain('<polyline');
  }, 900_000);
});
