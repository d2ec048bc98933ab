// Runs one whole process and measures it: wall time from spawn to exit, and its peak
// resident set (reported by the preloaded peak-rss.js).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const preload = join(import.meta.dirname, 'peak-rss.js');

/**
 * Runs `node --import peak-rss.js ...args` to its end; `stdin` is 'ignore' or a readable
 * stream with a file descriptor (a generator process's stdout). Resolves to
 * `{ wallMs, peakRssKiB }`; rejects when the process fails, with the end of its stderr.
 */
export function runMeasured(args, { cwd, env = {}, stdin = 'ignore', stdout = 'ignore' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'weir-e2e-rss-'));
  const rssFile = join(dir, 'peak-rss');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', preload, ...args], { cwd, env: { ...process.env, ...env, WEIR_BENCH_PEAK_RSS_FILE: rssFile }, stdio: [stdin, stdout, 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      let peakRssKiB;
      try {
        peakRssKiB = Number(readFileSync(rssFile, 'utf8'));
      } catch {
        peakRssKiB = undefined;
      }
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
      if (!(peakRssKiB > 0)) return reject(new Error(`${args.join(' ')} reported no peak RSS`));
      resolve({ wallMs, peakRssKiB });
    });
  });
}
