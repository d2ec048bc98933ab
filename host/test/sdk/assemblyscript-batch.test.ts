// The AssemblyScript SDK's Batch/Output API (records read in place, written
// straight into the output), through a real core module. Memory across calls:
// assemblyscript-memory.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { fixtureProcessor } from '../fixtures/fixture-processor.js';

let fixture: Awaited<ReturnType<typeof fixtureProcessor>>;
const LIMITS = instanceLimits({ ...DEFAULT_LIMITS, memoryMb: 64 });
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const shape = (r: StreamRecord) => ({
  key: text(r.key),
  value: text(r.value),
  headers: r.headers.map((h) => [h.name, text(h.value)]),
  eventTime: r.eventTime,
});

beforeAll(async () => {
  fixture = await fixtureProcessor('batch-api-as', LIMITS);
});

const plugin = (config: Record<string, unknown> = {}): Promise<InThreadProcessorInstance> => fixture.instance(config);

describe('AssemblyScript SDK: Batch and Output', () => {
  it('reads every part of a record in place and writes passed, changed and new records', async () => {
    const p = await plugin();
    const out = await p.process([
      textRecord('pass', { key: 'k ✓', headers: [['x', '0'], ['h', 'one'], ['h', 'two']], eventTime: -5n }),
      textRecord('pass'),
      textRecord('text:new ✓ value', { key: 'k', headers: [['h', 'v']], eventTime: 7n }),
      textRecord('bytes:b', { headers: [['h', 'v']] }),
      textRecord('drop', { key: 'gone' }),
      textRecord('new'),
      textRecord('record', { key: 'r', headers: [['n', 'v']], eventTime: 9n }),
      textRecord('upper', { key: 'u', headers: [['h', 'v']] }),
    ]);
    expect(out.map(shape)).toEqual([
      { key: 'k ✓', value: 'pass', headers: [['x', '0'], ['h', 'one'], ['h', 'two'], ['key', 'k ✓'], ['first-h', 'one'], ['length', '4']], eventTime: -5n },
      { key: undefined, value: 'pass', headers: [['key', '-'], ['first-h', 'none'], ['length', '4']], eventTime: undefined },
      { key: 'k', value: 'new ✓ value', headers: [['h', 'v']], eventTime: 7n },
      { key: undefined, value: 'b', headers: [['h', 'v']], eventTime: undefined },
      { key: 'k2', value: 'fresh', headers: [['a', '1']], eventTime: 42n },
      { key: undefined, value: 'second', headers: [], eventTime: undefined },
      { key: 'r', value: 'record', headers: [['n', 'v']], eventTime: 9n },
      { key: 'u', value: 'UPPER', headers: [['h', 'v']], eventTime: undefined },
    ]);
    p.close();
  });

  it('grows its output buffer past the size of the input', async () => {
    const p = await plugin();
    const big = 'x'.repeat(50_000);
    const out = await p.process(Array.from({ length: 40 }, (_, i) => textRecord(`text:${big}${i}`, { headers: [['h', 'v']] })));
    expect(out).toHaveLength(40);
    expect(out.map((r) => text(r.value))).toEqual(Array.from({ length: 40 }, (_, i) => `${big}${i}`));
    expect(out.every((r) => r.headers.length === 1 && text(r.headers[0]?.value) === 'v')).toBe(true);
    p.close();
  });

  it.each([
    ['pass-before-next', 'no current record: call batch.next() first'],
    ['header-first', 'addHeader before any record was written in this call'],
  ])('traps with a message on misuse: %s', async (misuse, message) => {
    const p = await plugin({ misuse });
    let failure: unknown;
    try {
      await p.process([textRecord('pass')]);
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({ code: 'WEIR_PLUGIN_TRAP' });
    expect(String((failure as Error).message)).toContain(message);
  });
});
