// End-to-end: `host run` picks up a new build of a plugin dropped into its
// plugins folder, says so in the log, loses nothing, and refuses a broken build.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { startBackgroundRun } from './background-run.js';

let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('tag-v1-as', 'tag-v2-as');
});

describe('host run with hot reload', () => {
  it('switches to a new build in the log and refuses a broken one, losing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-hot-'));
    const plugins = join(dir, 'plugins');
    mkdirSync(plugins);
    copyFileSync(join(fixtures, 'tag-v1-as.wasm'), join(plugins, 'tagger.wasm'));
    const { child, exited, stderr: output } = startBackgroundRun(dir, {
      name: 'hot',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 5000 }, batch: { maxRecords: 50 } },
        { id: 'tag', kind: 'processor', plugin: 'tagger.wasm', inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['tag'], config: { path: 'out.jsonl' } },
      ],
    });
    const waitFor = async (text: string) => {
      for (let i = 0; i < 400 && !output().includes(text); i++) await sleep(25);
      expect(output()).toContain(text);
    };
    await waitFor('pipeline running');
    await sleep(200);
    copyFileSync(join(fixtures, 'tag-v2-as.wasm'), join(plugins, '.tagger.tmp'));
    renameSync(join(plugins, '.tagger.tmp'), join(plugins, 'tagger.wasm'));
    await waitFor('plugin reloaded: new version serving from the next batch');
    // Let records through the new version before the broken file arrives.
    for (let i = 0; i < 400 && !readFileSync(join(dir, 'out.jsonl'), 'utf8').includes('"version":"2"'); i++) await sleep(25);
    writeFileSync(join(plugins, 'tagger.wasm'), readFileSync(join(fixtures, 'tag-v1-as.wasm')).subarray(0, 100));
    await waitFor('plugin changed but cannot be loaded: the running version stays');
    await sleep(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { totals: { read: number; written: number }; nodes: Array<{ id: string; reloads?: number }> };
    expect(summary.totals.written).toBe(summary.totals.read);
    expect(summary.nodes.find((n) => n.id === 'tag')!.reloads).toBe(1);
    const versions = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { headers: { version: string } }).headers.version);
    expect(versions).toHaveLength(summary.totals.read);
    // v1 first, then v2 from one batch on, and never back: the broken file changed nothing.
    const firstV2 = versions.indexOf('2');
    expect(firstV2).toBeGreaterThan(0);
    expect(versions.slice(0, firstV2).every((v) => v === '1')).toBe(true);
    expect(versions.slice(firstV2).every((v) => v === '2')).toBe(true);
  }, 60_000);
});
