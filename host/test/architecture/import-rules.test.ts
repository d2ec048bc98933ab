/**
 * Imports point down the layers of docs/ARCHITECTURE.md, as the errors test
 * keeps docs/errors.md honest for codes. The layer order is read from the
 * document itself (the first code block, one `name/` per line, top layer
 * first), so the rule and its documentation cannot drift apart.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../src');
const architecture = readFileSync(join(import.meta.dirname, '../../../docs/ARCHITECTURE.md'), 'utf8');

/** Layers top first, as the document lists them (`errors/ telemetry/` share the bottom rank). */
function layerRanks(): Map<string, number> {
  const block = architecture.split('```')[1] ?? '';
  const ranks = new Map<string, number>();
  let rank = 0;
  for (const line of block.split('\n')) {
    const names = /^\s{2}((?:[a-z-]+\/\s*)+)/.exec(line)?.[1];
    if (!names) continue;
    for (const name of names.split('/').map((n) => n.trim()).filter(Boolean)) ranks.set(name, rank);
    rank++;
  }
  return ranks;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `file -> layer` for every import of a higher layer. */
function upwardImports(ranks: ReadonlyMap<string, number>): string[] {
  const found = new Set<string>();
  for (const file of sourceFiles(root)) {
    const from = relative(root, file);
    const layer = from.split('/')[0]!;
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = relative(root, normalize(join(dirname(file), match[1]!))).split('/')[0]!;
      const own = ranks.get(layer);
      const theirs = ranks.get(target);
      if (own !== undefined && theirs !== undefined && theirs < own) found.add(`${from} -> ${target}`);
    }
  }
  return [...found].sort();
}

describe('import rules', () => {
  const ranks = layerRanks();

  it('reads every source folder from docs/ARCHITECTURE.md', () => {
    const folders = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !ranks.has(f))).toEqual([]);
  });

  it('imports point down the layers, none up', () => {
    expect(upwardImports(ranks)).toEqual([]);
  });
});
