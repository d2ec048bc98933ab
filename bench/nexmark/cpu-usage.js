// Preloaded into `host run` (node --import) by bench/nexmark.js: when the
// process exits, writes its CPU time (user and system, every thread) as JSON
// to the file named by $WEIR_BENCH_CPU_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.WEIR_BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ userUs: user, systemUs: system }));
  });
}
