/**
 * The folder usage counts behind rw grants' maxBytes belong to the thread's
 * Engine and reach every instance through instantiate() (they were a
 * module-level global): instances of one engine share one count, as the
 * instances of one thread must, so together they stay within maxBytes. Both
 * file interfaces: preview 1 (files-as) and weir:plugin/files (files-js).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { ENTRY_BYTES } from '../../src/linker/directory-quota.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';

const E = ENTRY_BYTES;
let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('files-as', 'files-js');
});

describe.each(['as', 'js'])('instances of one engine (files-%s)', (lang) => {
  it('share one count of a folder granted to each: together they stay within maxBytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-usages-'));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const module = await engine.load(join(fixtures, `files-${lang}.wasm`));
    const limits = instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode: 'none' } });
    const grant = { dir, as: '/out', mode: 'rw' as const, maxBytes: 64 * E };
    const node = async (id: string) => {
      const host = createHostContext({
        node: id, plugin: 'files', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
        metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
        capabilities: { env: [], clock: false, random: false, filesystem: [grant] },
      });
      const instance = (await instantiate(module, 'processor', host, limits)) as InThreadProcessorInstance;
      instance.configure('{}');
      return (command: string) => new TextDecoder().decode(instance.process([{ key: undefined, value: new TextEncoder().encode(command), headers: [], eventTime: undefined }])[0]!.value);
    };
    const a = await node('a');
    const b = await node('b');
    expect(b('write /out/b0 x')).toBe('ok'); // b measures the folder: E + 1
    expect(a(`write /out/a1 ${'a'.repeat(61 * E + 50)}`)).toBe('ok'); // 63 E + 51
    // Under a sixteenth of maxBytes since b measured, so b would not measure again on a count of its own.
    expect(b(`write /out/b1 ${'b'.repeat(100)}`)).toBe('errno 19');
  });
});
