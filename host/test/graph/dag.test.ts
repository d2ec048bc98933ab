import { describe, expect, it } from 'vitest';
import { downstreamOf, findCycle } from '../../src/graph/dag.js';

describe('findCycle', () => {
  it('returns undefined for a DAG with fan-out and fan-in', () => {
    const nodes = [
      { id: 'src', inputs: [] },
      { id: 'a', inputs: ['src'] },
      { id: 'b', inputs: ['src'] },
      { id: 'sink', inputs: ['a', 'b'] },
    ];
    expect(findCycle(nodes)).toBeUndefined();
  });

  it('returns the closed path of a cycle', () => {
    const nodes = [
      { id: 'src', inputs: [] },
      { id: 'a', inputs: ['src', 'c'] },
      { id: 'b', inputs: ['a'] },
      { id: 'c', inputs: ['b'] },
    ];
    const cycle = findCycle(nodes)!;
    expect(cycle[0]).toBe(cycle.at(-1));
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('finds a self-loop and ignores unknown inputs', () => {
    expect(findCycle([{ id: 'a', inputs: ['a'] }])).toEqual(['a', 'a']);
    expect(findCycle([{ id: 'a', inputs: ['ghost'] }])).toBeUndefined();
  });
});

describe('downstreamOf', () => {
  it('lists readers of each node', () => {
    const map = downstreamOf([
      { id: 'src', inputs: [] },
      { id: 'a', inputs: ['src'] },
      { id: 'b', inputs: ['src'] },
    ]);
    expect(map.get('src')).toEqual([{ output: '', reader: 'a' }, { output: '', reader: 'b' }]);
    expect(map.get('a')).toEqual([]);
  });
});
