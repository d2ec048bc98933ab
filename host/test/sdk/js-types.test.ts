import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '../../..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('sdk/js/types', () => {
  it('match wit/plugin.wit (regenerate with node scripts/generate-js-types.js)', () => {
    const out = mkdtempSync(join(tmpdir(), 'weir-types-'));
    execFileSync(process.execPath, [join(root, 'scripts/generate-js-types.js'), out]);
    const committed = join(root, 'sdk/js/types');
    const names = files(committed).map((f) => relative(committed, f)).sort();
    expect(files(out).map((f) => relative(out, f)).sort()).toEqual(names);
    expect(names).toContain('processor.d.ts');
    for (const name of names) expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(committed, name), 'utf8'));
  });
});
