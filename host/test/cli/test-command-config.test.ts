// `host test --config`: a config nested deeper than a pipeline file may be is
// refused up front (naming the pointer), as pipeline.json and --window are.
// And `host test` runs a plugin under the limits a pipeline node gets.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { testCommand } from '../../src/cli/test.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

const io = (): CliIo => ({ stdin: Readable.from([]), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: process.cwd(), onSignal: () => () => {} });

describe('host test --config', () => {
  it('refuses a config nested more than 64 levels deep with WEIR_USAGE and the pointer, before loading the plugin', async () => {
    const deep = `{"a":${'['.repeat(64)}${']'.repeat(64)}}`;
    await expect(testCommand(['missing.wasm', '--config', deep], io())).rejects.toMatchObject({
      code: 'WEIR_USAGE',
      message: expect.stringContaining(`--config: /a${'/0'.repeat(63)} is nested more than 64 levels deep`),
    });
  });
});

describe('host test limits', () => {
  let fixtures: string;
  beforeAll(async () => {
    fixtures = await buildFixtures('hostcall-loop-js');
  }, 120_000);

  it('runs the plugin under a pipeline node\'s default limits: keyed state past 64 MiB fails with WEIR_LIMIT_STATE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-host-test-limits-'));
    await writeFile(join(dir, 'in.jsonl'), '{"value":"x"}\n');
    // hostcall-loop-js stores one value of config.bytes bytes.
    await expect(testCommand([join(fixtures, 'hostcall-loop-js.wasm'), '--input', 'in.jsonl', '--config', JSON.stringify({ bytes: 65 << 20 }), '--cache-dir', join(dir, 'cache')], { ...io(), cwd: dir })).rejects.toMatchObject({
      code: 'WEIR_LIMIT_STATE',
      message: expect.stringContaining('limits.maxStateBytes (67108864)'),
    });
  }, 120_000);

  it('takes --limits as a node\'s limits in pipeline.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-host-test-limits-'));
    await writeFile(join(dir, 'in.jsonl'), '{"value":"x"}\n');
    const args = (limits?: object) => [join(fixtures, 'hostcall-loop-js.wasm'), '--input', 'in.jsonl', '--config', JSON.stringify({ bytes: 8192 }), '--cache-dir', join(dir, 'cache'), ...(limits ? ['--limits', JSON.stringify(limits)] : [])];
    expect(await testCommand(args(), { ...io(), cwd: dir })).toBe(0);
    await expect(testCommand(args({ maxStateBytes: 4096 }), { ...io(), cwd: dir })).rejects.toMatchObject({ code: 'WEIR_LIMIT_STATE', details: { maxBytes: 4096 } });
    // Checked as pipeline.json checks them, before the plugin is loaded.
    await expect(testCommand(args({ maxStateBytes: 0, colour: 'red' }), { ...io(), cwd: dir })).rejects.toMatchObject({
      code: 'WEIR_USAGE',
      message: expect.stringMatching(/^--limits: .*\/maxStateBytes: must be >= 1/),
    });
    await expect(testCommand(['missing.wasm', '--limits', '{"memoryMb":'], io())).rejects.toMatchObject({ code: 'WEIR_USAGE', message: expect.stringContaining('--limits must be a JSON object') });
  }, 120_000);
});

describe('host test and a sample folder', () => {
  const plugins = join(import.meta.dirname, '../../../plugins');
  const text = (stream: NodeJS.WritableStream) => ((stream as PassThrough).read() ?? '').toString();

  it('takes the config.json beside --input, as the hot reload self-test does, and says so; --config overrides it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-host-test-sample-'));
    const sample = join(plugins, 'uppercase-js', 'sample');
    const args = [join(plugins, 'uppercase-js.wasm'), '--input', join(sample, 'input.jsonl'), '--expect', join(sample, 'expected.jsonl'), '--cache-dir', join(dir, 'cache')];
    const beside = io();
    expect(await testCommand(args, beside)).toBe(0);
    expect(text(beside.stdout)).toMatch(/^ok: 4 records match/);
    expect(text(beside.stderr)).toMatch(/config: .*uppercase-js\/sample\/config\.json \(beside --input/);
    // The sample's expected output carries its config's tag: another config differs.
    const overridden = io();
    expect(await testCommand([...args, '--config', '{"tag":"other"}'], overridden)).toBe(1);
    expect(text(overridden.stdout)).toMatch(/^FAIL: 4 of 4 lines differ/);
  }, 120_000);
});

describe('host test and a config.json that is not a config', () => {
  it('is a usage error naming the file and the --config way around it, after a missing input is reported first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-host-test-bad-sample-'));
    await writeFile(join(dir, 'config.json'), '["unrelated"]');
    const plugin = join(import.meta.dirname, '../../../plugins/uppercase-js.wasm');
    await expect(testCommand([plugin, '--input', 'missing.jsonl'], { ...io(), cwd: dir })).rejects.toMatchObject({ code: 'WEIR_CONFIG_READ', message: expect.stringContaining('missing.jsonl does not exist') });
    await writeFile(join(dir, 'in.jsonl'), '{"value":"x"}\n');
    await expect(testCommand([plugin, '--input', 'in.jsonl'], { ...io(), cwd: dir })).rejects.toMatchObject({
      code: 'WEIR_USAGE',
      message: expect.stringMatching(/config\.json must hold a JSON object.*pass --config/),
    });
  });
});
