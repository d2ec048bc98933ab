// The end-to-end benchmark's harness (bench/e2e.js) is only worth its figures if it compares
// like with like: a path whose output is not the plain script's must be refused, not timed.
// Checks the harness, never a speed.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileToFilePaths, runFileToFile, type FileToFilePath } from '../../../bench/e2e.js';

const plain = fileToFilePaths({ extismWasm: 'unused.wasm' }).find((p) => p.id === 'plain')!;
/** A path that runs `script` (CommonJS, `node -e`) with the input and output file as argv[1] and argv[2]. */
const scripted = (id: string, script: string, anyOrder = false): FileToFilePath => ({ id, label: id, args: (input, output) => ['-e', script, input, output], anyOrder });
const copy = scripted('copy', "require('fs').copyFileSync(process.argv[1], process.argv[2])");
const upperReversed = (anyOrder: boolean) =>
  scripted(
    anyOrder ? 'reversed-any-order' : 'reversed',
    `const fs = require('fs');
     const lines = fs.readFileSync(process.argv[1], 'utf8').split('\\n').filter(Boolean).map((l) => { const r = JSON.parse(l); r.value = r.value.toUpperCase(); return JSON.stringify(r); });
     fs.writeFileSync(process.argv[2], lines.reverse().join('\\n') + '\\n');`,
    anyOrder,
  );

describe('bench/e2e.js: file to file', () => {
  it('times a path that writes the plain script\'s output, and refuses one whose output differs', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'weir-e2e-harness-'));
    const rows = await runFileToFile([plain, copy, upperReversed(false), upperReversed(true), { ...plain, id: 'plain-again' }], { workDir, records: 50, runs: 1, log: () => {} });
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get('copy')?.error).toMatch(/output differs from the plain script's at byte \d+ \(line 1\)/);
    expect(byId.get('reversed')?.error).toMatch(/output differs/);
    // A parallel node keeps no order across instances: the same lines in another order pass when the path says so.
    expect(byId.get('reversed-any-order')?.error).toBeUndefined();
    for (const id of ['plain', 'plain-again', 'reversed-any-order']) {
      const row = byId.get(id)!;
      expect(row.error).toBeUndefined();
      if (row.error === undefined) {
        expect(row.runs).toBe(1);
        expect(row.peakRssMiB.median).toBeGreaterThan(1);
        expect(row.records).toBe(50);
      }
    }
  }, 60_000);
});
