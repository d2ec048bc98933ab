/**
 * Warnings on valid pipelines: nodes whose records reach no sink are named
 * by `host validate` (exit code still 0) and logged by `host run` at start.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePipeline } from '../../src/config/compile.js';
import { pipelineWarnings } from '../../src/config/pipeline-warnings.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';

const compile = (nodes: object[]) => {
  const result = compilePipeline({ name: 'p', nodes }, { file: '/p.json', connectors: builtinConnectors() });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
};

const hostBin = join(import.meta.dirname, '../../bin/host.js');

describe('pipelineWarnings', () => {
  it('names every node whose records reach no sink, and no other', () => {
    const warnings = pipelineWarnings(compile([
      { id: 'in', kind: 'source', connector: 'generator' },
      { id: 'a', kind: 'processor', plugin: 'a.wasm', inputs: ['in'] },
      { id: 'b', kind: 'processor', plugin: 'b.wasm', inputs: ['a'] },
      { id: 'lost', kind: 'source', connector: 'generator' },
      { id: 'c', kind: 'processor', plugin: 'c.wasm', inputs: ['lost'] },
      { id: 'kept', kind: 'processor', plugin: 'k.wasm', inputs: ['in'] },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['kept.side'] },
      { id: 'svc', kind: 'service', plugin: 's.wasm' },
    ]));
    expect(warnings.map((w) => `${w.pointer}: ${w.message}`)).toEqual([
      '/nodes/1: the records of processor "a" reach no sink: every path from it ends at "b", which no node reads',
      '/nodes/2: the records of processor "b" reach no sink: no node reads its output, so they would be dropped',
      '/nodes/3: the records of source "lost" reach no sink: every path from it ends at "c", which no node reads',
      '/nodes/4: the records of processor "c" reach no sink: no node reads its output, so they would be dropped',
    ]);
    expect(warnings[1]!.hint).toContain('"inputs": ["b"]');
  });

  it('has nothing to say when every path ends at a sink', () => {
    expect(pipelineWarnings(compile([
      { id: 'in', kind: 'source', connector: 'generator' },
      { id: 'a', kind: 'processor', plugin: 'a.wasm', inputs: ['in'] },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['a', 'in'] },
    ]))).toEqual([]);
  });

  it('names a parallel processor whose instances share the main thread, and no processor on worker threads', () => {
    const warnings = pipelineWarnings(compile([
      { id: 'in', kind: 'source', connector: 'generator' },
      { id: 'shared', kind: 'processor', plugin: 'a.wasm', inputs: ['in'], parallelism: 2 },
      { id: 'trusted', kind: 'processor', plugin: 'a.wasm', inputs: ['in'], parallelism: 3, limits: { cpu: { mode: 'none' } } },
      { id: 'threaded', kind: 'processor', plugin: 'a.wasm', inputs: ['in'], parallelism: 2, limits: { cpu: { mode: 'fuel', thread: 'worker' } } },
      { id: 'watched', kind: 'processor', plugin: 'a.wasm', inputs: ['in'], parallelism: 2, limits: { cpu: { mode: 'worker' } } },
      { id: 'single', kind: 'processor', plugin: 'a.wasm', inputs: ['in'] },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['shared', 'trusted', 'threaded', 'watched', 'single'] },
    ]));
    expect(warnings.map((w) => `${w.pointer}: ${w.message}`)).toEqual([
      '/nodes/1/parallelism: processor "shared" runs its 2 instances on the main thread, which runs one call at a time: parallelism adds no core there',
      '/nodes/2/parallelism: processor "trusted" runs its 3 instances on the main thread, which runs one call at a time: parallelism adds no core there',
    ]);
    expect(warnings[0]!.hint).toContain('"limits": {"cpu": {"mode": "fuel", "thread": "worker"}}');
    expect(warnings[1]!.hint).toContain('"limits": {"cpu": {"mode": "none", "thread": "worker"}}');
  });

  it('host validate prints the warning and still exits 0; host run logs it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-warn-'));
    const file = join(dir, 'pipeline.json');
    writeFileSync(file, JSON.stringify({
      name: 'warn',
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 3 } },
        { id: 'gone', kind: 'source', connector: 'generator', config: { count: 3 } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['in'] },
      ],
    }));
    const validate = spawnSync(process.execPath, [hostBin, 'validate', file], { encoding: 'utf8' });
    expect(validate.status).toBe(0);
    expect(validate.stdout).toContain('valid (3 nodes), 1 warning');
    expect(validate.stdout).toContain('warning /nodes/1: the records of source "gone" reach no sink');
    const json = spawnSync(process.execPath, [hostBin, 'validate', '--json', file], { encoding: 'utf8' });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, problems: [], warnings: [{ pointer: '/nodes/1' }] });
    const run = spawnSync(process.execPath, [hostBin, 'run', '--no-watch', '--cache-dir', join(dir, 'cache'), file], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const logged = run.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; pointer?: string; msg: string });
    expect(logged).toContainEqual(expect.objectContaining({ level: 40, pointer: '/nodes/1', msg: expect.stringContaining('the records of source "gone" reach no sink') }));
  });
});
