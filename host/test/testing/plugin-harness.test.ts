import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffLines, runPlugin } from '../../src/testing/plugin-harness.js';
import { textRecord } from '../../src/records/record.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('probe-js', 'echo-service-js', 'hostcall-loop-js');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

describe('the plugin test harness (weir/test)', () => {
  it('is what the package exports as weir/test', () => {
    expect(import.meta.resolve('weir/test')).toMatch(/\/dist\/testing\/plugin-harness\.js$/);
  });

  it('runs a processor with its config, keyed state and metrics, in batches', async () => {
    const input = ['a', 'b', 'a'].map((key, i) => textRecord(`v${i}`, { key }));
    const result = await runPlugin({ plugin: join(fixtures, 'probe-js.wasm'), input, config: { suffix: '~' }, batchSize: 2, cacheDir });
    expect(result.lines).toEqual(['{"key":"a","value":"v0~1"}', '{"key":"b","value":"v1~1"}', '{"key":"a","value":"v2~2"}']);
    expect(result.metrics.counters.get('probed')).toBe(3n);
    expect(result.state.size).toBe(2);
  });

  it('calls a processor the way host run does: its packed path when it has one', async () => {
    // process and processBatch disagree on purpose: host run calls process-packed, so the harness must too.
    const dir = await mkdtemp(join(tmpdir(), 'weir-both-'));
    await writeFile(join(dir, 'plugin.json'), JSON.stringify({ name: 'both', kind: 'processor', lang: 'js', entry: 'index.js' }));
    await writeFile(join(dir, 'index.js'), [
      'export function configure() {}',
      'export function process(batch) { return batch; }',
      "export function processBatch(batch, out) { while (batch.next()) out.passWithText(batch, 'packed'); }",
    ].join('\n'));
    const result = await runPlugin({ plugin: dir, input: [textRecord('v', { key: 'k' })], cacheDir });
    expect(result.lines).toEqual(['{"key":"k","value":"packed"}']);
  }, 120_000);

  it('answers call-service with the function it is given, and reports plugin failures with their codes', async () => {
    const calls: string[] = [];
    const result = await runPlugin({
      plugin: join(fixtures, 'probe-js.wasm'),
      input: [textRecord('call:lookup')],
      callService: (service, method) => {
        calls.push(`${service}.${method}`);
        return new TextEncoder().encode('from the test');
      },
      cacheDir,
    });
    expect(calls).toEqual(['lookup.upper']);
    expect(result.lines).toEqual(['{"value":"from the test"}']);
    await expect(runPlugin({ plugin: join(fixtures, 'probe-js.wasm'), input: [textRecord('bad')], cacheDir })).rejects.toMatchObject({ code: 'WEIR_PLUGIN_ERROR' });
    await expect(runPlugin({ plugin: join(fixtures, 'echo-service-js.wasm'), cacheDir })).rejects.toMatchObject({ code: 'WEIR_PLUGIN_WORLD_MISMATCH' });
  });

  it('bounds keyed state as a pipeline node\'s is: a value past the default maxStateBytes (64 MiB) fails with WEIR_LIMIT_STATE', async () => {
    // hostcall-loop-js stores one value of config.bytes bytes.
    const error = await runPlugin({ plugin: join(fixtures, 'hostcall-loop-js.wasm'), input: [textRecord('x')], config: { bytes: 65 << 20 }, cacheDir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEIR_LIMIT_STATE', details: { node: 'test', maxBytes: 64 << 20 } });
    expect((error as Error).message).toContain('limits.maxStateBytes');
  }, 120_000);

  it('takes the host-side limits from options.limits: state bytes and keys, metric names', async () => {
    const input = ['a', 'b', 'c'].map((key) => textRecord('v', { key }));
    const probe = join(fixtures, 'probe-js.wasm');
    // Within the defaults, as above; over the limits given here.
    expect((await runPlugin({ plugin: probe, input, cacheDir })).state.size).toBe(3);
    await expect(runPlugin({ plugin: probe, input, limits: { maxStateKeys: 2 }, cacheDir })).rejects.toMatchObject({ code: 'WEIR_LIMIT_STATE', details: { maxKeys: 2 } });
    // probe-js reports a counter and a gauge for each record.
    await expect(runPlugin({ plugin: probe, input, limits: { maxMetricNames: 1 }, cacheDir })).rejects.toMatchObject({ code: 'WEIR_LIMIT_METRICS', details: { maxMetricNames: 1 } });
    const bytes = await runPlugin({ plugin: join(fixtures, 'hostcall-loop-js.wasm'), input: [textRecord('x')], config: { bytes: 4096 }, limits: { maxStateBytes: 4096 }, cacheDir }).catch((e: unknown) => e);
    expect(bytes).toMatchObject({ code: 'WEIR_LIMIT_STATE', details: { maxBytes: 4096 } });
  });

  it('runs an aggregator through the window it is given, closing what is open at the end', async () => {
    // Readings of one sensor: a session closes after 1 s without one.
    const input = [['21', 0], ['23', 400], ['30', 5000], ['10', 600]].map(([value, at]) => textRecord(String(value), { key: 's1', eventTime: BigInt(at!) }));
    const result = await runPlugin({
      plugin: join(import.meta.dirname, '../../../plugins/sensor-average-js.wasm'),
      kind: 'aggregator',
      window: { type: 'session', sizeMs: 0, slideMs: 0, gapMs: 1000, allowedLatenessMs: 0, lateOutput: 'late' },
      input,
      batchSize: 2,
      cacheDir,
    });
    // The second batch passes the first session by more than the gap: it closes, and 10 @ 600 comes late.
    expect(result.lines).toEqual([
      '{"key":"s1","value":"{\\"sensor\\":\\"s1\\",\\"start\\":0,\\"end\\":1400,\\"count\\":2,\\"avg\\":22}","eventTime":1399}',
      '{"key":"s1","value":"10","headers":{"weir-output":"late"},"eventTime":600}',
      '{"key":"s1","value":"{\\"sensor\\":\\"s1\\",\\"start\\":5000,\\"end\\":6000,\\"count\\":1,\\"avg\\":30}","eventTime":5999}',
    ]);
  });

  it('compares JSONL lines as records, whatever the key order', () => {
    expect(diffLines(['{"key":"a","value":"x"}'], ['{"value":"x","key":"a"}'])).toEqual([]);
    expect(diffLines(['{"value":"x"}', '{"value":"y"}'], ['{"value":"x"}'])).toEqual([{ line: 2, expected: '{"value":"y"}', actual: undefined }]);
  });
});
