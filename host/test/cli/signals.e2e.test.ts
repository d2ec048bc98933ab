// End-to-end: SIGTERM in the middle of a run drains, loses nothing and exits 0;
// a second signal forces the exit (130). The real `host` as a subprocess.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { startBackgroundRun } from './background-run.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = join(import.meta.dirname, '../../..');

function startRun() {
  const dir = mkdtempSync(join(tmpdir(), 'weir-signal-'));
  const run = startBackgroundRun(dir, {
    name: 'endless',
    plugins: { dir: join(root, 'plugins') },
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 20000 }, batch: { maxRecords: 100 } },
      { id: 'upper', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['gen'] },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['upper'], config: { path: 'out.jsonl' } },
    ],
  });
  return { dir, ...run };
}

/** Waits until the run has written at least 2000 records (on a loaded machine this can take a while). */
async function waitForOutput(file: string): Promise<void> {
  const enough = () => existsSync(file) && readFileSync(file, 'utf8').split('\n').length > 2000;
  for (let i = 0; i < 800 && !enough(); i++) await sleep(25);
  expect(enough(), 'the run produced output before the signal').toBe(true);
}

describe('signals during host run', () => {
  it('SIGTERM mid-run drains: every record read is written, the summary says stopped, exit 0', async () => {
    const run = startRun();
    await waitForOutput(join(run.dir, 'out.jsonl'));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const summary = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as { status: string; totals: { read: number; written: number; errors: number } };
    const written = readFileSync(join(run.dir, 'out.jsonl'), 'utf8').trim().split('\n').length;
    expect(summary.status).toBe('stopped');
    expect(summary.totals.read).toBeGreaterThan(2000);
    expect(summary.totals).toMatchObject({ written: summary.totals.read, errors: 0 });
    expect(written).toBe(summary.totals.read);
    expect(run.stderr()).toContain('signal received: draining');
  });

  it('a second signal exits at once with 130', async () => {
    const run = startRun();
    await waitForOutput(join(run.dir, 'out.jsonl'));
    // Both signals arrive together: the process is paused (checked in /proc) while
    // they are sent, and two different signals stay pending, so the drain cannot
    // finish in between even on a loaded machine.
    run.child.kill('SIGSTOP');
    const state = () => readFileSync(`/proc/${run.child.pid}/stat`, 'utf8').split(') ')[1]![0];
    for (let i = 0; i < 400 && state() !== 'T'; i++) await sleep(5);
    expect(state()).toBe('T');
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    run.child.kill('SIGCONT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toContain('second signal: exiting without draining');
  });
});
