import { describe, expect, it, vi } from 'vitest';
import { Ajv } from 'ajv';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePipeline, readPipelineFile } from '../../src/config/compile.js';
import { DEFAULT_BATCH, DEFAULT_ON_ERROR } from '../../src/config/pipeline-config.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { ConnectorRegistry } from '../../src/connectors/connector.js';
import { hasCode } from '../../src/errors/errors.js';

const valid = {
  name: 'demo',
  plugins: { dir: 'wasm' },
  defaults: { batch: { maxRecords: 64 } },
  nodes: [
    { id: 'gen', kind: 'source', connector: 'generator', config: { count: 5 } },
    { id: 'up', kind: 'processor', plugin: 'up.wasm', inputs: ['gen'], batch: { lingerMs: 1 }, onError: { policy: 'skip' } },
    { id: 'out', kind: 'sink', connector: 'null', inputs: ['up'] },
  ],
};

describe('compilePipeline', () => {
  it('fills defaults, resolves paths and freezes the result', () => {
    const result = compilePipeline(valid, { file: '/pipelines/demo.json', connectors: builtinConnectors() });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { config } = result;
    expect(config.pluginsDir).toBe('/pipelines/wasm');
    const up = config.nodes[1]!;
    expect(up.implementation).toEqual({ type: 'plugin', file: 'up.wasm', path: '/pipelines/wasm/up.wasm' });
    expect(up.batch).toEqual({ ...DEFAULT_BATCH, maxRecords: 64, lingerMs: 1 });
    expect(up.onError).toEqual({ ...DEFAULT_ON_ERROR, policy: 'skip' });
    expect(config.nodes[0]!.parallelism).toBe(1);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(up.config)).toBe(true);
  });

  it('says how to write an object where a bare word was given ("onError": "skip")', () => {
    const nodes = valid.nodes.map((n) => (n.id === 'up' ? { ...n, onError: 'skip' } : n));
    const result = compilePipeline({ ...valid, nodes }, { file: '/pipelines/demo.json', connectors: builtinConnectors() });
    expect(result.ok ? [] : result.problems).toContainEqual({ pointer: '/nodes/1/onError', message: 'must be object (got "skip")', hint: 'write {"policy": "skip"}' });
    // No hint that would still be invalid: a word the field does not take.
    const typo = compilePipeline({ ...valid, nodes: valid.nodes.map((n) => (n.id === 'up' ? { ...n, onError: 'skipp' } : n)) }, { file: '/pipelines/demo.json', connectors: builtinConnectors() });
    expect(typo.ok ? [] : typo.problems).toContainEqual({ pointer: '/nodes/1/onError', message: 'must be object (got "skipp")' });
  });

  it('checks named outputs, parallelism and limits that cannot take effect', () => {
    const result = compilePipeline({
      name: 'settings',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', parallelism: 2 },
        { id: 'v', kind: 'processor', plugin: 'v.wasm', inputs: ['gen'], limits: { timeoutMs: 5 } },
        { id: 'w', kind: 'processor', plugin: 'w.wasm', inputs: ['gen'], limits: { cpu: { mode: 'worker' }, fuel: 10 } },
        { id: 'ok', kind: 'sink', connector: 'null', inputs: ['v.invalid', 'w'] },
        { id: 'bad', kind: 'sink', connector: 'null', inputs: ['v.no way', 'nope.invalid'], limits: { cpu: { mode: 'worker' } } },
      ],
    }, { file: '/p.json', connectors: builtinConnectors() });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems.map((p) => `${p.pointer}: ${p.message}`);
    expect(problems.sort()).toEqual([
      '/nodes/0/parallelism: parallelism applies to processor nodes only (this node is a source)',
      '/nodes/1/limits/timeoutMs: timeoutMs is enforced in cpu mode "worker" only; this node runs in mode "fuel"',
      '/nodes/2/limits/fuel: fuel is metered in cpu mode "fuel" only; this node runs in mode "worker"',
      '/nodes/4/inputs/0: "v.no way" names an invalid output "no way"',
      '/nodes/4/inputs/1: unknown input "nope.invalid"',
    ]);
  });

  it('does not mutate the caller\'s object', () => {
    const input = structuredClone(valid);
    const result = compilePipeline(input, { file: '/p.json', connectors: builtinConnectors() });
    expect(result.ok).toBe(true);
    expect(input).toEqual(valid);
    expect(Object.isFrozen(input.nodes[0]!.config)).toBe(false);
  });

  it('checks connectors against the registry it is given', () => {
    const result = compilePipeline(valid, { file: '/p.json', connectors: builtinConnectors().clone() });
    expect(result.ok).toBe(true);
    const empty = compilePipeline(valid, { file: '/p.json', connectors: ConnectorRegistry.empty() });
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.problems.map((p) => p.pointer)).toEqual(['/nodes/0/connector', '/nodes/2/connector']);
  });
});

describe('readPipelineFile', () => {
  it('reports invalid JSON with line and column', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-config-'));
    const file = join(dir, 'p.json');
    await writeFile(file, '{\n  "name": "x"\n  "nodes": []\n}\n');
    await expect(readPipelineFile(file)).rejects.toSatisfy((e: Error) => hasCode(e, 'WEIR_CONFIG_READ') && e.message.includes('p.json:3:3: not valid JSON'));
  });

  it('reports a missing file', async () => {
    await expect(readPipelineFile('/no/such/pipeline.json')).rejects.toSatisfy((e: Error) => hasCode(e, 'WEIR_CONFIG_READ'));
  });
});

describe('over-deep pipeline files', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };
  const pipeline = (config: unknown) => ({
    name: 'deep',
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator' },
      { id: 'up', kind: 'processor', plugin: 'up.wasm', inputs: ['gen'], config },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['up'] },
    ],
  });

  it('are refused with the pointer of the first value past the limit, before anything recurses over them', () => {
    const result = compilePipeline(pipeline(nested(5_000)), { file: '/p.json', connectors: builtinConnectors() });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([expect.objectContaining({ pointer: `/nodes/1/config${'/a'.repeat(61)}`, message: expect.stringContaining('nested more than 64 levels deep') })]);
    // A plugin config nested within the limit is fine.
    expect(compilePipeline(pipeline(nested(40)), { file: '/p.json', connectors: builtinConnectors() }).ok).toBe(true);
  });

  it('make host validate exit 2 with the pointer, not 1 as an unexpected error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-config-'));
    const file = join(dir, 'p.json');
    // Written as text: JSON.stringify itself recurses.
    await writeFile(file, JSON.stringify(pipeline('DEEP')).replace('"DEEP"', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`));
    const result = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/host.js'), 'validate', file], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('/nodes/1/config/a/a');
    expect(result.stdout).toContain('nested more than 64 levels deep');
  });
});

describe('schema compilation', () => {
  it('happens once: compiling a pipeline again (as every hot-reload edit does) compiles no schema', () => {
    const connectors = builtinConnectors();
    compilePipeline(valid, { file: '/p.json', connectors });
    const spy = vi.spyOn(Ajv.prototype, 'compile');
    try {
      for (let i = 0; i < 3; i++) expect(compilePipeline(valid, { file: '/p.json', connectors }).ok).toBe(true);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
