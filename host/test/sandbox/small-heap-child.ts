/**
 * Runs a script in a child Node process with a small heap (and `gc()`), for
 * memory tests: a host that holds what it should not dies "heap out of
 * memory" there, or reports numbers the test checks. The script imports the
 * compiled host from `dist/` (build it with `npm run build:host`).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The `dist/` module at `path` (e.g. `records/batch-codec.js`), as a URL a child can import. */
export const distModule = (path: string): string => pathToFileURL(join(import.meta.dirname, '../../../dist', path)).href;

/** What the child printed and how it ended. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `source` (an ES module) with `--max-old-space-size=heapMb --expose-gc`. */
export function runWithSmallHeap(source: string, heapMb: number, env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--expose-gc', '--input-type=module', '-e', source], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
