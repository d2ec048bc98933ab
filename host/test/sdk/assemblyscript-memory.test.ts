// The AssemblyScript SDK's memory through a real core module: what a plugin
// allocates in a call and keeps stays valid in later calls (the collector sees
// it), what calls leave unreachable is collected (memory stays within the cap),
// and collections are paced (not one per call when the plugin keeps a lot).
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import { Engine } from '../../src/engine/engine.js';
import type { PluginModule } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let module: PluginModule;
const CAP_MB = 64;
const LIMITS = instanceLimits({ ...DEFAULT_LIMITS, memoryMb: CAP_MB });
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const header = (r: StreamRecord, name: string) => text(r.headers.find((h) => h.name === name)?.value);

beforeAll(async () => {
  const dir = await buildFixtures('kept-state-as');
  module = await new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) }).load(join(dir, 'kept-state-as.wasm'));
});

async function plugin(config: Record<string, unknown> = {}): Promise<InThreadProcessorInstance> {
  const host = createHostContext({
    node: 'n1',
    plugin: 'kept-state-as.wasm',
    config,
    logger: pino({ level: 'silent' }),
    state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() },
    callService: () => {
      throw new Error('no services');
    },
  });
  const instance = (await instantiate(module, 'processor', host, LIMITS)) as InThreadProcessorInstance;
  instance.configure(JSON.stringify(config));
  return instance;
}

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
