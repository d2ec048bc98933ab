/** Starts `host run` as a background subprocess for end-to-end tests that signal it or change its files. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');

/** A running `host run`: its process, exit code, and what it wrote on standard error so far. */
export interface BackgroundRun {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Writes `pipeline` to `<dir>/pipeline.json` and runs it, with the summary going to `<dir>/summary.json`. */
export function startBackgroundRun(dir: string, pipeline: object): BackgroundRun {
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(pipeline));
  const child = spawn(process.execPath, [join(root, 'host/bin/host.js'), 'run', join(dir, 'pipeline.json'), '--summary-json', join(dir, 'summary.json')], {
    env: { ...process.env, WEIR_CACHE_DIR: mkdtempSync(join(tmpdir(), 'weir-cache-')) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close', not 'exit': only then has everything the process wrote on stderr arrived.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}
