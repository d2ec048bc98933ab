import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/config/compile.js';
import { diffPipelines, isStructural } from '../../src/config/diff.js';
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

const none = { changed: [], added: [], removed: [], rewired: [], refused: [] };

describe('diffPipelines', () => {
  it('finds plugin changes, which switch without a pause, windowed nodes included', () => {
    const next = structuredClone(base);
    (next[1] as { config: object }).config = { a: 2 };
    (next[1] as { limits?: object }).limits = { memoryMb: 64 };
    (next[2] as { plugin: string }).plugin = 'w2.wasm';
    const diff = diffPipelines(compile(base), compile(next));
    expect(diff).toEqual({ ...none, changed: ['p', 'w'] });
    expect(isStructural(diff)).toBe(false);
    expect(diffPipelines(compile(base), compile(base))).toEqual(none);
  });

  it('finds structural changes: nodes added, removed, rewired', () => {
    const next = structuredClone(base).filter((n) => n.id !== 'out');
    (next[1] as { parallelism?: number }).parallelism = 2;
    (next[1] as { onError?: object }).onError = { policy: 'skip' };
    next.push({ id: 'tap', kind: 'sink', connector: 'null', inputs: ['p'] }, { id: 'out2', kind: 'sink', connector: 'null', inputs: ['w', 'p'] });
    const diff = diffPipelines(compile(base), compile(next));
    expect(diff).toEqual({ ...none, added: ['tap', 'out2'], removed: ['out'], rewired: ['p'] });
    expect(isStructural(diff)).toBe(true);
  });

  it('refuses what no running pipeline can take, each with its reason and what to do instead', () => {
    const next = structuredClone(base);
    (next[0] as { config?: object }).config = { count: 5 };
    (next[2] as { window: object }).window = { type: 'tumbling', sizeMs: 20 };
    (next[3] as { kind: string; plugin?: string; connector?: string }).kind = 'processor';
    (next[3] as { plugin?: string }).plugin = 'x.wasm';
    delete (next[3] as { connector?: string }).connector;
    next.push({ id: 'end', kind: 'sink', connector: 'null', inputs: ['out'] });
    const refused = diffPipelines(compile(base), compile(next)).refused;
    expect(refused).toEqual([
      'node "in": connector source changed: opened again it would read from the start and repeat records; to read something else, add a source with another id',
      'node "w": window changed: the open windows were formed by the old window settings; give the new node another id, so the old one is removed and the new one added',
      'node "out": kind changed from sink to processor; give the new node another id, so the old one is removed and the new one added',
    ]);
    const parallel = structuredClone(base);
    Object.assign(parallel[2]!, { parallelism: 2, partition: 'key' });
    expect(diffPipelines(compile(base), compile(parallel)).refused).toEqual([expect.stringContaining('node "w": parallelism or partition changed on a windowed node')]);
  });
});
