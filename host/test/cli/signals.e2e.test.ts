// Signals during `host run`: SIGTERM mid-run drains, loses nothing and exits 0;
// a signal while the pipeline is still being loaded stops it as soon as it runs
// (exit 0, with a summary); a signal after the output is complete changes
// nothing; a second signal forces the exit (130); a drain that runs out of time
// (--drain-timeout) says what was not written and exits 4. The real `host` as a
// subprocess (a second signal: while its drain is stuck behind a standard output
// nobody reads), and in-process where both signals must arrive in one turn (with
// checkpoints) or a stdout must never take a byte (the drain deadline). Every
// wait is on a condition (output lines), never a fixed time.
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { startBackgroundRun } from './background-run.js';
import type { BackgroundRun } from './background-run.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/cli-io.js';

const root = join(import.meta.dirname, '../../..');

function startRun(extraNodes: object[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'weir-signal-'));
  const run = startBackgroundRun(dir, {
    name: 'endless',
    plugins: { dir: join(root, 'plugins') },
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 20000 }, batch: { maxRecords: 100 } },
      { id: 'upper', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['gen'] },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['upper'], config: { path: 'out.jsonl' } },
      ...extraNodes,
    ],
  });
  return { dir, ...run };
}

/** Resolves once `ready()` holds, checking whenever the child writes to stderr and as files grow (polled between turns of the event loop). */
async function until(run: BackgroundRun, ready: () => boolean, what: string): Promise<void> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!ready()) {
    if (exited) throw new Error(`host run exited before ${what}; stderr:\n${run.stderr()}`);
    await new Promise<void>((resolve) => {
      const wake = () => {
        run.child.stderr!.off('data', wake);
        clearImmediate(poll);
        resolve();
      };
      run.child.stderr!.once('data', wake);
      // Files do not announce themselves: look again after other work had a turn.
      const poll = setImmediate(wake);
    });
  }
}

const lineCount = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

interface Summary {
  status: string;
  totals: { read: number; written: number; errors: number };
  drain?: { timedOut: boolean; notWritten: Record<string, number> };
}

describe('signals during host run', () => {
  it('SIGTERM mid-run drains: every record read is written, the summary says stopped, exit 0', async () => {
    const run = startRun();
    const out = join(run.dir, 'out.jsonl');
    await until(run, () => lineCount(out) > 2000, 'it wrote 2000 records');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const summary = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.status).toBe('stopped');
    expect(summary.totals.read).toBeGreaterThan(2000);
    expect(summary.totals).toMatchObject({ written: summary.totals.read, errors: 0 });
    expect(lineCount(out)).toBe(summary.totals.read);
    expect(run.stderr()).toContain('signal received: draining');
  });

  it('a signal while the pipeline is being loaded stops it once it runs: a summary, nothing lost, exit 0', async () => {
    const run = startRun();
    // The first log line comes while plugins load, before "pipeline running".
    await until(run, () => run.stderr().includes('"msg":"plugin'), 'it logs loading a plugin');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const summary = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.status).toBe('stopped');
    expect(summary.totals.written).toBe(summary.totals.read);
    expect(lineCount(join(run.dir, 'out.jsonl'))).toBe(summary.totals.read);
    expect(run.stderr()).toContain('pipeline "endless" stopped');
  });

  it('a second signal after the output is complete changes nothing: exit 0, not 143', async () => {
    const run = startRun();
    await until(run, () => run.stderr().includes('pipeline running') && lineCount(join(run.dir, 'out.jsonl')) > 100, 'it runs');
    run.child.kill('SIGTERM');
    // The summary is printed and written: the command is winding down (closing the watcher, exiting).
    const written = () => {
      try {
        return (JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as Summary).status === 'stopped';
      } catch {
        return false;
      }
    };
    await until(run, () => run.stderr().includes('pipeline "endless" stopped') && written(), 'the summary is printed and written');
    let exited = false;
    void run.exited.then(() => (exited = true));
    run.child.kill('SIGTERM');
    // It is seen as what it is (not as a second signal that forces an exit), and one more while the process ends changes nothing either.
    await until(run, () => exited || run.stderr().includes('signal received while exiting'), 'the signal is logged or the process has ended');
    if (!exited) run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).not.toContain('second signal: exiting without draining');
    expect(JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8'))).toMatchObject({ status: 'stopped' });
  });

  it('a second signal exits at once with 130; the run it leaves goes on to its final checkpoint without a store error', async () => {
    // In-process, so both signals arrive in one turn (two OS signals can reach a loaded process apart, and a
    // drain finished in between makes the second one a late signal instead); the pipeline has checkpoints:
    // the forced exit must not close the store under the run it leaves behind.
    const dir = mkdtempSync(join(tmpdir(), 'weir-second-signal-'));
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'forced',
      plugins: { dir: join(root, 'plugins') },
      checkpoint: { intervalMs: 50 },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 20000 }, batch: { maxRecords: 100 } },
        { id: 'upper', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['upper'], config: { path: 'out.jsonl' } },
      ],
    }));
    let stderr = '';
    let signal: (s: NodeJS.Signals) => void = () => {};
    const io: CliIo = {
      stdin: Readable.from([]), stdout: new PassThrough(), stderr: new Writable({ write: (chunk: Buffer, _e, done) => { stderr += chunk.toString(); done(); } }),
      env: { ...process.env, WEIR_CACHE_DIR: mkdtempSync(join(tmpdir(), 'weir-cache-')) }, cwd: dir,
      onSignal: (handler) => {
        signal = handler;
        return () => (signal = () => {});
      },
    };
    io.logs = io.stderr;
    const exit = main(['run', 'pipeline.json', '--no-watch'], io);
    while (!(stderr.includes('pipeline running') && lineCount(join(dir, 'out.jsonl')) > 500)) await nextTurn();
    signal('SIGINT');
    signal('SIGTERM');
    expect(await exit).toBe(130);
    expect(stderr).toContain('second signal: exiting without draining');
    // The run left behind drains, writes its final checkpoint and ends (its node summaries are logged).
    while (!stderr.includes('node summary')) await nextTurn();
    expect(stderr).not.toContain('WEIR_CHECKPOINT_STORE');
    expect(stderr).not.toContain('pipeline failed');
  }, 60_000);
});

describe('a second signal to the host process', () => {
  it('exits 130 while the drain is stuck (a stdout nobody reads, no drain deadline)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-second-signal-process-'));
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'stuck-stdout',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, valueSize: 1000 }, batch: { maxRecords: 100 } },
        { id: 'out', kind: 'sink', connector: 'stdout', inputs: ['gen'] },
        { id: 'file', kind: 'sink', connector: 'file', inputs: ['gen'], config: { path: 'out.jsonl' } },
      ],
    }));
    // Its standard output is a pipe this test never reads: once the pipe (64 KiB) and the buffers on both ends are
    // full (a few hundred KB: a few hundred of these 1 KB records), the stdout sink waits for ever, and the fan-out
    // stops at its pace, the file sink at most a channel (16 batches of 100) ahead. Every record the file sink took
    // must also be written to standard output before a drain can end.
    const child = spawn(process.execPath, [join(root, 'host/bin/host.js'), 'run', join(dir, 'pipeline.json'), '--no-watch', '--drain-timeout', '0'], {
      env: { ...process.env, WEIR_CACHE_DIR: mkdtempSync(join(tmpdir(), 'weir-cache-')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const run: BackgroundRun = { child, exited, stderr: () => stderr };
    // 1,000 records (about 1 MB) are far more than the pipe and the buffers hold: the drain cannot end.
    await until(run, () => lineCount(join(dir, 'out.jsonl')) >= 1000, 'the generator produced more than standard output can take');
    child.kill('SIGINT');
    await until(run, () => stderr.includes('signal received: draining'), 'the drain started');
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toContain('second signal: exiting without draining');
  }, 60_000);
});

describe('host run --drain-timeout', () => {
  it('a drain stuck behind a sink that takes nothing stops at the deadline, says what was not written, exits 4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-drain-'));
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'stuck',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0 }, batch: { maxRecords: 1000 } },
        { id: 'out', kind: 'sink', connector: 'stdout', inputs: ['gen'] },
      ],
    }));
    // A standard output that never finishes a write: the stdout sink waits for it forever.
    let taken = 0;
    const stdout = new Writable({ highWaterMark: 1024, write: () => void taken++ });
    let stderr = '';
    let signal: (s: NodeJS.Signals) => void = () => {};
    const io: CliIo = {
      stdin: Readable.from([]), stdout, stderr: new Writable({ write: (chunk: Buffer, _e, done) => { stderr += chunk.toString(); done(); } }),
      env: { ...process.env, WEIR_CACHE_DIR: mkdtempSync(join(tmpdir(), 'weir-cache-')) }, cwd: dir,
      onSignal: (handler) => {
        signal = handler;
        return () => (signal = () => {});
      },
    };
    const exit = main(['run', 'pipeline.json', '--no-watch', '--drain-timeout', '50', '--summary-json', 'summary.json', '--log-level', 'warn'], io);
    while (taken === 0) await nextTurn();
    signal('SIGTERM');
    expect(await exit).toBe(4);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.status).toBe('stopped');
    expect(summary.drain?.timedOut).toBe(true);
    const notWritten = Object.values(summary.drain!.notWritten).reduce((n, records) => n + records, 0);
    expect(summary.drain!.notWritten.out).toBeGreaterThan(0);
    expect(summary.totals.written + notWritten).toBe(summary.totals.read);
    expect(stderr).toContain('drain timed out after 50 ms; not written: out ');
  }, 60_000);

  it('refuses a deadline that is not a whole number of milliseconds', async () => {
    let stderr = '';
    const io: CliIo = {
      stdin: Readable.from([]), stdout: new PassThrough(), stderr: new Writable({ write: (chunk: Buffer, _e, done) => { stderr += chunk.toString(); done(); } }),
      env: process.env, cwd: tmpdir(), onSignal: () => () => {},
    };
    expect(await main(['run', 'pipeline.json', '--drain-timeout', '2s'], io)).toBe(3);
    expect(stderr).toContain('--drain-timeout must be a whole number of milliseconds');
  });
});
