// Runs the test suite beside CPU hogs, as a loaded CI machine would: two
// busy-looping processes (like `stress --cpu 2`, with no package to install)
// start first, vitest runs with whatever arguments are given (a file, -t ...),
// and the hogs are stopped when it ends, whatever the outcome.
//
//   node scripts/test-under-load.js                 # the whole suite
//   node scripts/test-under-load.js host/test/reload/hot-reload.test.ts
//   WEIR_LOAD_HOGS=4 node scripts/test-under-load.js
//
// `npm run test:load` builds and type-checks first, as `npm test` does.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const hogCount = Number(process.env.WEIR_LOAD_HOGS ?? 2);
if (!Number.isInteger(hogCount) || hogCount < 0) {
  console.error(`WEIR_LOAD_HOGS must be a whole number, not ${process.env.WEIR_LOAD_HOGS}`);
  process.exit(2);
}

const hogs = Array.from({ length: hogCount }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const stopHogs = () => {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
};
process.on('exit', stopHogs);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopHogs();
    process.exit(130);
  });
}
console.log(`test-under-load: ${hogCount} CPU hog(s) running (pids ${hogs.map((h) => h.pid).join(', ')})`);

// vitest's CLI file, found from its package.json (the package exports no path to it).
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const tests = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
tests.on('close', (code, signal) => {
  stopHogs();
  console.log(`test-under-load: vitest ended (${signal ?? `exit ${code}`}) beside ${hogCount} CPU hog(s)`);
  process.exit(code ?? 1);
});
