// Golden bad-config tests: each folder under fixtures/bad-configs holds a
// pipeline.json and expected.json, the exact list of problems `host validate`
// must report (pointer + a piece of the message), in file order.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';

const root = join(import.meta.dirname, '../fixtures/bad-configs');
const cases = readdirSync(root).sort();

describe('bad configs', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(6));

  it.each(cases)('%s reports exactly the expected problems', async (name) => {
    const expected = JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8')) as Array<{ pointer: string; contains: string }>;
    const engine = new Engine({ cacheDir: mkdtempSync(join(tmpdir(), 'weir-cache-')) });
    const prepared = await preparePipeline(join(root, name, 'pipeline.json'), engine, builtinConnectors());
    expect(prepared.ok).toBe(false);
    const problems = prepared.ok ? [] : prepared.problems;
    expect(problems.map((p) => p.pointer)).toEqual(expected.map((e) => e.pointer));
    expected.forEach((e, i) => expect(problems[i]!.message).toContain(e.contains));
  });
});
