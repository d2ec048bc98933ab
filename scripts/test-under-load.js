// Runs the test suite beside CPU hogs, as a loaded CI machine would: two
// busy-looping processes (like `stress --cpu 2`, with no package to install)
// start first, vitest runs with whatever arguments are given (a file, -t ...),
// and the hogs are stopped when it ends, whatever the outcome. SIGINT/SIGTERM
// are passed on to vitest; the hogs also exit by themselves if this script dies.
//
//   node scripts/test-under-load.js                 # the whole suite
//   node scripts/test-under-load.js host/test/reload/hot-reload.test.ts
//   WEIR_LOAD_HOGS=4 node scripts/test-under-load.js
//
// `npm run test:load` builds and type-checks first, as `npm test` does.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const hogCount = Number(process.env.WEIR_LOAD_HOGS ?? 2);
if (!Number.isInteger(hogCount) || hogCount < 0) {
  console.error(`WEIR_LOAD_HOGS must be a whole number, not ${process.env.WEIR_LOAD_HOGS}`);
  process.exit(2);
}

// Each hog spins in slices, letting its event loop run between them, and
// exits when its IPC channel to this script closes: a SIGKILLed script
// leaves no hog spinning.
const HOG = `
  process.on('disconnect', () => process.exit(0));
  const spin = () => {
    const until = Date.now() + 50;
    while (Date.now() < until);
    setImmediate(spin);
  };
  spin();`;
const hogs = Array.from({ length: hogCount }, () => {
  const hog = spawn(process.execPath, ['-e', HOG], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  hog.channel?.unref();
  return hog;
});
const stopHogs = () => {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
};
process.on('exit', stopHogs);
console.log(`test-under-load: ${hogCount} CPU hog(s) running (pids ${hogs.map((h) => h.pid).join(', ')})`);

// vitest's CLI file, found from its package.json (the package exports no path to it).
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const tests = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
// SIGINT/SIGTERM: the hogs stop at once; vitest gets the signal and this
// script exits when it has ended (128 + the signal's number).
let stoppedBy;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stoppedBy ??= signal;
    stopHogs();
    if (tests.exitCode === null && tests.signalCode === null) tests.kill(signal);
  });
}
// Said once the handlers are in place: whoever waits for this line may signal at once.
console.log(`test-under-load: vitest running (pid ${tests.pid})`);

tests.on('close', (code, signal) => {
  stopHogs();
  console.log(`test-under-load: vitest ended (${signal ?? `exit ${code}`}) beside ${hogCount} CPU hog(s)`);
  process.exit(stoppedBy ? 128 + constants.signals[stoppedBy] : code ?? 1);
});
