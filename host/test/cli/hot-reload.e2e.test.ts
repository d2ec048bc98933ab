// End-to-end: `host run` picks up a new build of a plugin dropped into its
// plugins folder, says so in the log, loses nothing, refuses a broken build,
// and applies an edit of pipeline.json that adds a sink.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { until } from '../fixtures/until.js';
import { startBackgroundRun } from './background-run.js';

let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('tag-v1-as', 'tag-v2-as');
});

describe('host run with hot reload', () => {
  it('switches to a new build in the log, refuses a broken one and applies an added sink, losing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-hot-'));
    const plugins = join(dir, 'plugins');
    mkdirSync(plugins);
    copyFileSync(join(fixtures, 'tag-v1-as.wasm'), join(plugins, 'tagger.wasm'));
    const pipeline = {
      name: 'hot',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 5000 }, batch: { maxRecords: 50 } },
        { id: 'tag', kind: 'processor', plugin: 'tagger.wasm', inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['tag'], config: { path: 'out.jsonl' } },
      ],
    };
    const { child, exited, stderr: output } = startBackgroundRun(dir, pipeline);
    /** Waits until the log says `text`; a run that ended first fails the wait at once. */
    let ended = false;
    void exited.then(() => (ended = true));
    const waitFor = async (text: string) => {
      await until(() => ended || output().includes(text), 25);
      expect(output()).toContain(text);
    };
    const outLines = () => (existsSync(join(dir, 'out.jsonl')) ? readFileSync(join(dir, 'out.jsonl'), 'utf8').split('\n').length - 1 : 0);
    /** Waits until more records than now are in out.jsonl. */
    const moreWritten = async () => {
      const now = outLines();
      await until(() => ended || outLines() > now, 25);
    };
    await waitFor('pipeline running');
    // Records flow through v1 before v2 arrives.
    await moreWritten();
    const reloaded = 'plugin reloaded: new version serving from the next batch';
    const dropV2 = () => {
      copyFileSync(join(fixtures, 'tag-v2-as.wasm'), join(plugins, '.tagger.tmp'));
      renameSync(join(plugins, '.tagger.tmp'), join(plugins, 'tagger.wasm'));
    };
    // No log line says when the watcher is ready, and a build dropped before then goes unseen:
    // drop it again after each 1000 records written until the reload shows (the same build
    // again changes nothing once it serves).
    dropV2();
    let droppedAt = outLines();
    await until(() => {
      if (ended || output().includes(reloaded)) return true;
      if (outLines() >= droppedAt + 1000) {
        dropV2();
        droppedAt = outLines();
      }
      return false;
    }, 25);
    await waitFor(reloaded);
    // Let records through the new version before the broken file arrives.
    await until(() => ended || readFileSync(join(dir, 'out.jsonl'), 'utf8').includes('"version":"2"'), 25);
    // A second sink, added by editing the pipeline file.
    pipeline.nodes.push({ id: 'copy', kind: 'sink', connector: 'file', inputs: ['tag'], config: { path: 'copy.jsonl' } });
    writeFileSync(join(dir, 'pipeline.tmp'), JSON.stringify(pipeline));
    renameSync(join(dir, 'pipeline.tmp'), join(dir, 'pipeline.json'));
    await waitFor('pipeline file applied: the edited pipeline is running');
    expect(output()).toContain('"added":["copy"]');
    writeFileSync(join(plugins, 'tagger.wasm'), readFileSync(join(fixtures, 'tag-v1-as.wasm')).subarray(0, 100));
    await waitFor('plugin changed but cannot be loaded: the running version stays');
    // The running version goes on serving after the refusal.
    await moreWritten();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { totals: { read: number; written: number }; nodes: Array<{ id: string; reloads?: number; out: number }> };
    const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
    const copy = readFileSync(join(dir, 'copy.jsonl'), 'utf8').trim().split('\n');
    // The added sink got exactly the records produced after the rewire: the tail of out.
    expect(copy.length).toBeGreaterThan(0);
    expect(copy).toEqual(out.slice(out.length - copy.length));
    expect(summary.nodes.find((n) => n.id === 'out')!.out).toBe(summary.totals.read);
    expect(summary.totals.written).toBe(summary.totals.read + copy.length);
    expect(summary.nodes.find((n) => n.id === 'tag')!.reloads).toBe(1);
    const versions = out.map((l) => (JSON.parse(l) as { headers: { version: string } }).headers.version);
    expect(versions).toHaveLength(summary.totals.read);
    // v1 first, then v2 from one batch on, and never back: the broken file changed nothing.
    const firstV2 = versions.indexOf('2');
    expect(firstV2).toBeGreaterThan(0);
    expect(versions.slice(0, firstV2).every((v) => v === '1')).toBe(true);
    expect(versions.slice(firstV2).every((v) => v === '2')).toBe(true);
    // A guard against a hang, not a speed budget (every wait above is on a condition).
  }, 300_000);
});
