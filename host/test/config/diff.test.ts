import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/config/compile.js';
import { diffPipelines } from '../../src/config/diff.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';

const compile = (nodes: object[]) => {
  const result = compilePipeline({ name: 'p', nodes }, { file: '/p.json', connectors: builtinConnectors() });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
};

const base = [
  { id: 'in', kind: 'source', connector: 'generator' },
  { id: 'p', kind: 'processor', plugin: 'p.wasm', inputs: ['in'], config: { a: 1 } },
  { id: 'w', kind: 'processor', plugin: 'w.wasm', inputs: ['p'], window: { type: 'tumbling', sizeMs: 10 } },
  { id: 'out', kind: 'sink', connector: 'null', inputs: ['w'] },
];

describe('diffPipelines', () => {
  it('finds processor changes that apply live', () => {
    const next = structuredClone(base);
    (next[1] as { config: object }).config = { a: 2 };
    (next[1] as { limits?: object }).limits = { memoryMb: 64 };
    expect(diffPipelines(compile(base), compile(next))).toEqual({ changed: ['p'], refused: [] });
    expect(diffPipelines(compile(base), compile(base))).toEqual({ changed: [], refused: [] });
  });

  it('refuses what needs a restart, each with its reason', () => {
    const next = structuredClone(base);
    (next[1] as { parallelism?: number }).parallelism = 2;
    (next[2] as { plugin: string }).plugin = 'w2.wasm';
    next.push({ id: 'extra', kind: 'sink', connector: 'null', inputs: ['p'] });
    expect(diffPipelines(compile(base), compile(next)).refused).toEqual([
      'node "extra" was added',
      'node "p": parallelism changed',
      'node "w": implementation changed on a node that cannot switch live (a connector or a windowed processor)',
    ]);
  });
});
