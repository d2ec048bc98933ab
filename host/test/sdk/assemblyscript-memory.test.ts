// The AssemblyScript SDK's memory through a real core module: what a plugin
// allocates in a call and keeps stays valid in later calls (the collector sees
// it), what calls leave unreachable is collected (memory stays within the cap),
// and collections are paced (not one per call when the plugin keeps a lot).
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { fixtureProcessor } from '../fixtures/fixture-processor.js';

let fixture: Awaited<ReturnType<typeof fixtureProcessor>>;
const CAP_MB = 64;
const LIMITS = instanceLimits({ ...DEFAULT_LIMITS, memoryMb: CAP_MB });
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const header = (r: StreamRecord, name: string) => text(r.headers.find((h) => h.name === name)?.value);

beforeAll(async () => {
  fixture = await fixtureProcessor('kept-state-as', LIMITS);
});

const plugin = (config: Record<string, unknown> = {}): Promise<InThreadProcessorInstance> => fixture.instance(config);

const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);

async function recallAll(p: InThreadProcessorInstance): Promise<(string | undefined)[]> {
  const out = await p.process(keys.map((key) => textRecord('recall', { key })));
  return out.map((r) => header(r, 'cached'));
}

describe('AssemblyScript SDK: memory across calls', () => {
  it('keeps valid what a call allocated and the plugin kept (a Map grown in processBatch, a string, bytes)', async () => {
    const p = await plugin();
    await p.process(keys.map((key) => textRecord(`remember:text of ${key} ✓`, { key })));
    // Later calls allocate and overwrite memory: bigger inputs (records no command matches), 1 MiB of garbage each.
    for (let i = 0; i < 5; i++) {
      const filler = Array.from({ length: 200 }, (_, j) => textRecord(`filler ${'x'.repeat(300)}`, { key: `other-${j}` }));
      await p.process([...filler, textRecord('garbage:1')]);
    }
    expect(await recallAll(p)).toEqual(keys.map((key) => `text of ${key} ✓`));
    const [last] = await p.process([textRecord('recall', { key: 'key-0' })]);
    expect(header(last!, 'last-text')).toBe('text of key-39 ✓');
    expect(header(last!, 'last-bytes')).toBe('text of key-39 ✓');
    p.close();
  });

  it('collects what calls leave unreachable: 100 calls of 8 MiB stay within a 64 MiB cap, what was kept survives', async () => {
    const p = await plugin();
    await p.process(keys.map((key) => textRecord(`remember:${key}`, { key })));
    // 800 MiB in all if nothing were freed; in 1 MiB arrays and in one array of 8 MiB.
    for (let i = 0; i < 100; i++) await p.process([textRecord(i % 2 === 0 ? 'garbage:8' : 'blob:8')]);
    expect(await recallAll(p)).toEqual(keys);
    // Within the cap, and within a small multiple of what one call allocates.
    expect(p.usage().memoryPagesHighWater * 65536).toBeLessThanOrEqual(32 * 1024 * 1024);
    p.close();
  });

  it('does not collect after every call when little was allocated (a large kept cache is not marked per batch)', async () => {
    const p = await plugin({ preload: '20000' });
    const collections = async () => Number(header((await p.process([textRecord('collections')]))[0]!, 'collections'));
    const before = await collections();
    for (let i = 0; i < 50; i++) await p.process([textRecord('remember:small', { key: `k${i % 4}` })]);
    const during = (await collections()) - before;
    expect(during).toBeLessThan(10);
    p.close();
  });
});
