// The fixture behind checkpoint acceptance 5 (seq-source-js) keeps its side of the
// source contract, so a red plugin-source kill loop means the host, not the fixture:
// every poll reports its position, and an instance opened at a position continues
// right after it; a position it never reported is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import { WeirError } from '../../src/errors/errors.js';
import type { SourceInstance } from '../../src/contract/plugin.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let plugin: string;
let cacheDir: string;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

beforeAll(async () => {
  plugin = join(await buildFixtures('seq-source-js'), 'seq-source-js.wasm');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

async function openSource(config: object, resumeFrom: Uint8Array | undefined): Promise<SourceInstance> {
  const ctx = createHostContext({
    node: 'in', plugin: 'seq-source-js.wasm', config: {}, logger: pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })),
    state: new MemoryKeyedState(), metrics: { counters: new Map(), gauges: new Map() },
    callService: () => { throw new WeirError('WEIR_SERVICE_NOT_FOUND', 'none'); },
  });
  const source = (await instantiate(await new Engine({ cacheDir }).load(plugin), 'source', ctx, instanceLimits(DEFAULT_LIMITS))) as SourceInstance;
  source.open(JSON.stringify(config), resumeFrom);
  return source;
}

describe('fixture seq-source-js', () => {
  it('reports its position with every poll and, opened at a reported position, continues right after it', async () => {
    const first = await openSource({ count: 10, keys: 3 }, undefined);
    const a = first.poll(4);
    const b = first.poll(4);
    expect(a.records.map((r) => text(r.value))).toEqual(['0', '1', '2', '3']);
    expect(text(a.position!)).toBe('4');
    expect(text(b.position!)).toBe('8');
    expect(a.records.map((r) => text(r.key!))).toEqual(['k0', 'k1', 'k2', 'k0']);
    expect(a.records[1]!.headers).toEqual([{ name: 'seq', value: new TextEncoder().encode('1') }]);

    const resumed = await openSource({ count: 10, keys: 3 }, a.position!);
    const rest = resumed.poll(100);
    expect(rest.records.map((r) => text(r.value))).toEqual(['4', '5', '6', '7', '8', '9']);
    expect(rest.done).toBe(true);
    expect(text(rest.position!)).toBe('10');
  });

  it('refuses a position it never reported', async () => {
    await expect(openSource({ count: 10 }, new TextEncoder().encode('eleven'))).rejects.toThrow(/not a position of this source/);
  });
});
