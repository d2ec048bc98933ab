// Latency of a lone record through `host run`: stdin -> uppercase-as -> stdout. One line is
// written, its output line awaited, then a gap before the next, so each record arrives
// alone (nothing else queued to batch with). Default batch settings, and `lingerMs: 0`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordLine } from './e2e/input.js';
import { hostRunArgs } from './e2e.js';

const root = join(import.meta.dirname, '..');

/** Milliseconds from writing each of `samples` lines to reading its output line (after `warmUp` unmeasured ones). */
async function lineLatencies({ dir, batch, samples, warmUp, gapMs, cacheDir }) {
  const args = hostRunArgs(dir, {
    name: 'latency',
    plugins: { dir: join(root, 'plugins') },
    ...(batch ? { defaults: { batch } } : {}),
    nodes: [
      { id: 'in', kind: 'source', connector: 'stdin' },
      { id: 'upper', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['in'] },
      { id: 'out', kind: 'sink', connector: 'stdout', inputs: ['upper'] },
    ],
  });
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, WEIR_CACHE_DIR: cacheDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  let buffered = '';
  let waiting;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    buffered += text;
    const newline = buffered.indexOf('\n');
    if (newline >= 0 && waiting) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const resolve = waiting;
      waiting = undefined;
      resolve({ at: performance.now(), line });
    }
  });
  const failed = exited.then((code) => {
    throw new Error(`host run exited ${code} during the latency run: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  });
  const latencies = [];
  try {
    for (let i = 0; i < warmUp + samples; i++) {
      const line = recordLine(i);
      const next = new Promise((resolve) => (waiting = resolve));
      const sent = performance.now();
      child.stdin.write(line);
      const { at, line: out } = await Promise.race([next, failed]);
      const expected = JSON.stringify({ ...JSON.parse(line), value: JSON.parse(line).value.toUpperCase() });
      if (out !== expected) throw new Error(`latency: host run wrote ${out} for ${line.trim()}`);
      if (i >= warmUp) latencies.push(at - sent);
      await sleep(gapMs);
    }
  } finally {
    child.stdin.end();
    failed.catch(() => {});
  }
  const code = await exited;
  if (code !== 0) throw new Error(`host run exited ${code} after the latency run: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return latencies;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Rows `{ id, label, samples, p50Ms, p99Ms, maxMs }` for the default settings and `lingerMs: 0`. */
export async function runLatency({ workDir, samples, warmUp, gapMs, log }) {
  const rows = [];
  for (const setting of [
    { id: 'default', label: 'default batch settings' },
    { id: 'linger-0', label: '`batch.lingerMs: 0`', batch: { lingerMs: 0 } },
  ]) {
    const sorted = (await lineLatencies({ dir: join(workDir, 'latency', setting.id), batch: setting.batch, samples, warmUp, gapMs, cacheDir: join(workDir, 'cache') })).sort((a, b) => a - b);
    const row = { id: setting.id, label: setting.label, samples: sorted.length, gapMs, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) };
    rows.push(row);
    log(`latency ${setting.id.padEnd(8)}: p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms (${row.samples} records)`);
  }
  return rows;
}
