/**
 * Finding a plugin's sample: only a missing file means "no sample"; a sample
 * file that cannot be read, or a config.json that is not a JSON object, is an
 * error naming the file (it used to read as no sample, or as `{}`).
 */
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSample } from '../../src/testing/sample-check.js';

/** A plugin file `<dir>/p.wasm` with a sample folder `<dir>/p/sample` holding `files` (a `null` content makes a folder). */
async function pluginWithSample(files: Record<string, string | null>): Promise<{ plugin: string; sample: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-sample-'));
  const sample = join(dir, 'p', 'sample');
  await mkdir(sample, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    if (content === null) await mkdir(join(sample, name));
    else await writeFile(join(sample, name), content);
  }
  return { plugin: join(dir, 'p.wasm'), sample };
}

const input = '{"value":"a"}\n';
const expected = '{"value":"A"}\n';

describe('findSample', () => {
  it('finds none when input.jsonl or expected.jsonl is missing, and takes a missing config.json as {}', async () => {
    expect(await findSample((await pluginWithSample({ 'input.jsonl': input })).plugin)).toBeUndefined();
    expect(await findSample((await pluginWithSample({ 'expected.jsonl': expected })).plugin)).toBeUndefined();
    const found = await findSample((await pluginWithSample({ 'input.jsonl': input, 'expected.jsonl': expected })).plugin);
    expect(found).toMatchObject({ config: {}, expected: ['{"value":"A"}'] });
    expect(found!.input).toHaveLength(1);
  });

  it('fails naming expected.jsonl when it exists but cannot be read', async () => {
    const { plugin, sample } = await pluginWithSample({ 'input.jsonl': input, 'expected.jsonl': null });
    await expect(findSample(plugin)).rejects.toMatchObject({ code: 'WEIR_PLUGIN_SELF_TEST_FAILED', message: expect.stringContaining(`sample ${join(sample, 'expected.jsonl')} cannot be read`) });
  });

  it('fails naming config.json when it exists but cannot be read', async () => {
    const { plugin, sample } = await pluginWithSample({ 'input.jsonl': input, 'expected.jsonl': expected, 'config.json': null });
    await expect(findSample(plugin)).rejects.toMatchObject({ code: 'WEIR_PLUGIN_SELF_TEST_FAILED', message: expect.stringContaining(`sample ${join(sample, 'config.json')} cannot be read`) });
  });

  it.each([
    ['{not json', 'is not JSON'],
    ['null', 'must hold a JSON object'],
    ['[1, 2]', 'must hold a JSON object'],
    ['"text"', 'must hold a JSON object'],
  ])('fails naming config.json when it holds %s', async (content, message) => {
    const { plugin, sample } = await pluginWithSample({ 'input.jsonl': input, 'expected.jsonl': expected, 'config.json': content });
    await expect(findSample(plugin)).rejects.toMatchObject({
      code: 'WEIR_PLUGIN_SELF_TEST_FAILED',
      message: expect.stringContaining(`sample ${join(sample, 'config.json')} ${message}`),
      details: expect.objectContaining({ file: join(sample, 'config.json') }),
    });
  });

  it('finds none when a file stands where the plugin folder or its sample folder would be (ENOTDIR)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-sample-'));
    await writeFile(join(dir, 'p'), 'a file named like the plugin folder');
    expect(await findSample(join(dir, 'p.wasm'))).toBeUndefined();
    await mkdir(join(dir, 'q'));
    await writeFile(join(dir, 'q', 'sample'), 'a file named like the sample folder');
    expect(await findSample(join(dir, 'q.wasm'))).toBeUndefined();
  });

  it('fails naming config.json and the pointer when it nests deeper than a pipeline file may (64 levels)', async () => {
    const deep = `{"a":${'['.repeat(64)}${']'.repeat(64)}}`;
    const { plugin, sample } = await pluginWithSample({ 'input.jsonl': input, 'expected.jsonl': expected, 'config.json': deep });
    const pointer = `/a${'/0'.repeat(63)}`;
    await expect(findSample(plugin)).rejects.toMatchObject({
      code: 'WEIR_PLUGIN_SELF_TEST_FAILED',
      message: expect.stringContaining(`sample ${join(sample, 'config.json')}: ${pointer} is nested more than 64 levels deep`),
      details: expect.objectContaining({ file: join(sample, 'config.json'), pointer }),
    });
    const atLimit = await pluginWithSample({ 'input.jsonl': input, 'expected.jsonl': expected, 'config.json': `{"a":${'['.repeat(63)}${']'.repeat(63)}}` });
    expect(await findSample(atLimit.plugin)).toBeDefined();
  });
});
