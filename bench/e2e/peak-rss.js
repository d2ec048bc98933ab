// Preloaded into every process the end-to-end benchmarks time (`node --import
// bench/e2e/peak-rss.js ...`): when the process exits, it writes its peak resident set in
// KiB to the file named by WEIR_BENCH_PEAK_RSS_FILE. The same measure for every path,
// exact (polling from outside would miss a peak between two polls), worker threads
// included (they share the process).
// On Linux the peak is VmHWM from /proc/self/status: the high-water mark of this process
// image. Not getrusage's ru_maxrss (process.resourceUsage().maxRSS): Linux carries it over
// exec from the forked copy of the parent, so every child of a 150 MiB benchmark process
// would show at least 150 MiB. Elsewhere ru_maxrss is the fallback.
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

function peakKiB() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // no /proc: not Linux
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.WEIR_BENCH_PEAK_RSS_FILE;
if (file && isMainThread) process.on('exit', () => writeFileSync(file, String(peakKiB())));
