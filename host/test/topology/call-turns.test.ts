// Which parallel lanes take turns for their calls (topology/operators/call-turns.ts): lanes on
// the main thread always; worker lanes (cpu mode worker, or fuel/none with cpu.thread worker)
// only when they do not partition by key.
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/config/compile.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { callTurnsFor } from '../../src/topology/operators/call-turns.js';

function processorWith(cpu: Record<string, unknown>, partition: string) {
  const result = compilePipeline(
    {
      name: 'turns',
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'p', kind: 'processor', plugin: 'p.wasm', inputs: ['in'], parallelism: 2, partition, limits: { cpu } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['p'] },
      ],
    },
    { file: '/pipelines/turns.json', connectors: builtinConnectors() },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.nodes.find((n) => n.id === 'p')!;
}

describe('callTurnsFor', () => {
  it.each([
    [{ mode: 'fuel' }, 'key', true],
    [{ mode: 'fuel' }, 'round-robin', true],
    [{ mode: 'fuel', thread: 'worker' }, 'key', false],
    [{ mode: 'fuel', thread: 'worker' }, 'round-robin', true],
    [{ mode: 'none', thread: 'worker' }, 'key', false],
    [{ mode: 'worker' }, 'key', false],
    [{ mode: 'worker' }, 'broadcast', true],
  ])('cpu %j, partition %s: lanes take turns = %s', (cpu, partition, turns) => {
    expect(callTurnsFor(processorWith(cpu, partition), 2) !== undefined).toBe(turns);
  });

  it('one lane never takes turns', () => {
    expect(callTurnsFor(processorWith({ mode: 'fuel' }, 'round-robin'), 1)).toBeUndefined();
  });
});
