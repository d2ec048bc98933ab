/**
 * A build that lands right after `host run` loaded its plugins, before the
 * watcher is ready, must still be picked up: the watcher treats files that
 * are already there as seen, so HotReload compares digests once it is ready.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import type { ReloadOutcome } from '../../src/topology/pipeline-run.js';
import { HotReload } from '../../src/reload/hot-reload.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { GateSource } from '../fixtures/gate-source.js';

let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('tag-v1-as', 'tag-v2-as');
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('hot reload at start-up', () => {
  it('a build swapped in before the watcher is ready serves the records that follow', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-startup-swap-'));
    const plugin = join(dir, 'tagger.wasm');
    await copyFile(join(fixtures, 'tag-v1-as.wasm'), plugin);
    const gate = new GateSource();
    const versions: string[] = [];
    const connectors = builtinConnectors()
      .register({ kind: 'source', name: 'gate', description: 'test', configSchema: { type: 'object' }, create: () => gate })
      .register({
        kind: 'sink', name: 'collect', description: 'test', configSchema: { type: 'object' },
        create: () => ({ write: async (batch) => void versions.push(...batch.map((r) => r.headers.filter((h) => h.name === 'version').map((h) => text(h.value)).join())), flush: async () => {}, close: async () => {} }),
      });
    const file = join(dir, 'pipeline.json');
    await writeFile(file, JSON.stringify({ name: 'startup-swap', plugins: { dir }, nodes: [
      { id: 'in', kind: 'source', connector: 'gate' },
      { id: 'tag', kind: 'processor', plugin: 'tagger.wasm', inputs: ['in'] },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['tag'] },
    ] }));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const prepared = await preparePipeline(file, engine, connectors);
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    const logger = pino({ level: 'silent' });
    const run = await PipelineRun.start(prepared.config, { modules: prepared.modules, connectors, logger, stdin: Readable.from([]), stdout: new PassThrough() });
    const running = new Map([[plugin, prepared.modules.get('tag')!.sha256]]);

    // The new build lands after the run loaded v1, before the watcher starts.
    await copyFile(join(fixtures, 'tag-v2-as.wasm'), `${plugin}.tmp`);
    await rename(`${plugin}.tmp`, plugin);
    const v2 = createHash('sha256').update(await readFile(plugin)).digest('hex');

    const outcomes: ReloadOutcome[] = [];
    const hotReload = await HotReload.start({ run, engine, running, logger, onOutcome: (o) => outcomes.push(o) });
    try {
      await hotReload.settled();
      expect(outcomes).toMatchObject([{ node: 'tag', ok: true, sha256: v2 }]);
      gate.give(['after']);
      gate.end();
      const summary = await run.done;
      expect(summary.status).toBe('completed');
      expect(versions).toEqual(['2']);
      expect(summary.nodes.find((n) => n.id === 'tag')).toMatchObject({ pluginSha256: v2, reloads: 1 });
    } finally {
      await hotReload.close();
    }
  });
});
