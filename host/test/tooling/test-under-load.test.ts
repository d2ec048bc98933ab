/**
 * scripts/test-under-load.js: a SIGTERM reaches vitest (it used to stop only
 * the hogs and leave vitest running), and a SIGKILLed script leaves no hog
 * spinning (each hog notices its parent is gone). vitest runs a test that
 * never ends, from a config in a temporary folder, so only a signal stops it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../fixtures/until.js';

const script = join(import.meta.dirname, '../../../scripts/test-under-load.js');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes a test started (hog, vitest): killed after each test, even one that timed out. */
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** Starts the script with one hog, running a vitest test that never ends; resolves with the hog's and vitest's pids. */
async function startScript(): Promise<{ child: ChildProcess; hog: number; vitest: number; exited: Promise<number | null> }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-under-load-'));
  await writeFile(join(dir, 'vitest.config.mjs'), "export default { test: { globals: true, include: ['hang.test.js'], testTimeout: 600000 } };\n");
  await writeFile(join(dir, 'hang.test.js'), 'it("never ends", () => new Promise(() => {}));\n');
  const child = spawn(process.execPath, [script, '--config', join(dir, 'vitest.config.mjs'), '--root', dir], {
    env: { ...process.env, WEIR_LOAD_HOGS: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await until(() => /vitest running \(pid \d+\)/.test(out));
  const hog = Number(/pids (\d+)/.exec(out)![1]);
  const vitest = Number(/vitest running \(pid (\d+)\)/.exec(out)![1]);
  started.push(hog, vitest);
  return { child, hog, vitest, exited };
}

describe('test-under-load.js', () => {
  it('passes SIGTERM on to vitest, stops the hogs, and exits once vitest has ended', async () => {
    const { child, hog, vitest, exited } = await startScript();
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    await until(() => !alive(vitest) && !alive(hog));
  });

  it('leaves no hog spinning when the script itself is SIGKILLed', async () => {
    const { child, hog, exited } = await startScript();
    child.kill('SIGKILL');
    await exited;
    await until(() => !alive(hog));
  });
});
