// `npm run bench [-- --quick] [-- --out FILE]`: builds every implementation, runs the
// micro, macro, start-up, memory and end-to-end benchmarks, and writes RESULTS.md and the chart.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { prepareImplementations } from './implementations.js';
import { runMicro } from './micro.js';
import { runMacro } from './macro.js';
import { runStartup } from './startup.js';
import { runMemory } from './memory.js';
import { runBreakdown } from './breakdown.js';
import { runLimits } from './limits.js';
import { runReload, runRewire } from './reload.js';
import { runHttp } from './http.js';
import { runFuelWallTime } from './fuel-wall-time.js';
import { runNexmark } from './nexmark.js';
import { fileToFilePaths, runFileToFile, runFlatMemory } from './e2e.js';
import { runLatency } from './latency.js';
import { runScaling } from './scaling.js';
import { Engine } from '../dist/engine/engine.js';
import { keepSectionsMeasuredApart, renderChart, renderResults } from './report.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' } } });
const quick = values.quick ?? false;
const out = resolve(values.out ?? join(import.meta.dirname, 'RESULTS.md'));
const chart = join(dirname(out), basename(out, '.md') + '-throughput.svg');
const log = (line) => process.stderr.write(line + '\n');

const settings = quick
  ? { batchSizes: [1, 16, 256, 4096], timeMs: 30, warmupMs: 10, iterations: 2, warmupIterations: 1, count: 20_000, seconds: 0.2, runs: 1, startupRuns: 1, instances: 3, swaps: 1, edits: 4 }
  : { batchSizes: [1, 16, 256, 4096], timeMs: 1000, warmupMs: 200, iterations: 64, warmupIterations: 16, count: 1_000_000, seconds: 2, runs: 5, startupRuns: 5, instances: 20, swaps: 20, edits: 40 };
// The end-to-end benchmarks (whole processes): records of the file-to-file table and its runs, the flat-memory
// stream lengths, lone records for the latency, records of the scaling runs.
const endToEnd = quick
  ? { records: 2_000, runs: 1, warmUp: false, flatCounts: [2_000, 20_000], latencySamples: 20, latencyWarmUp: 5, gapMs: 5, scalingRecords: 5_000, scalingRuns: 1 }
  : { records: 1_000_000, runs: 3, warmUp: true, flatCounts: [1_000_000, 10_000_000], latencySamples: 400, latencyWarmUp: 20, gapMs: 10, scalingRecords: 300_000, scalingRuns: 3 };
// Each tinybench task runs for `timeMs` and at least `iterations` calls (tinybench's default is 64): in quick
// mode a slow call (a JS component on a batch of 4096 takes a third of a second) would otherwise set the time.
const sampling = { timeMs: settings.timeMs, warmupMs: settings.warmupMs, iterations: settings.iterations, warmupIterations: settings.warmupIterations };

const workDir = join(import.meta.dirname, '.work');
log(`building implementations into ${workDir}`);
const impls = await prepareImplementations(workDir, log);
for (const i of impls.filter((x) => !x.available)) log(`not measured: ${i.label}: ${i.note}`);

const micro = await runMicro(impls, { batchSizes: settings.batchSizes, ...sampling, log });
const macro = await runMacro(impls, { count: settings.count, seconds: settings.seconds, runs: settings.runs, log });
const startup = await runStartup(impls, { runs: settings.startupRuns, warmUp: !quick, log });
const memory = runMemory(impls, { instances: settings.instances, cacheDir: join(workDir, 'cache'), log });
const breakdown = await runBreakdown({ ...sampling, count: settings.count, log });
const limits = await runLimits(impls, {
  workDir,
  engine: new Engine({ cacheDir: join(workDir, 'cache') }),
  count: settings.count,
  seconds: settings.seconds,
  runs: settings.runs,
  ...sampling,
  log,
});
const reload = await runReload(impls, { workDir, engine: new Engine({ cacheDir: join(workDir, 'cache') }), swaps: settings.swaps, log });
const rewire = await runRewire(impls, { workDir, engine: new Engine({ cacheDir: join(workDir, 'cache') }), edits: settings.edits, log });
const http = await runHttp({ requests: quick ? 50 : 2_000, log });
const fuelWallTime = await runFuelWallTime({ log, budget: quick ? 100_000_000 : 1_000_000_000, runs: quick ? 1 : 3, components: !quick });
const nexmark = await runNexmark({ quick, runs: 3, workDir, log });

const extism = impls.find((i) => i.id === 'extism');
const fileToFile = await runFileToFile(fileToFilePaths({ extismWasm: join(workDir, 'upper-extism.wasm') }).filter((p) => p.id !== 'extism' || extism?.available), { workDir, records: endToEnd.records, runs: endToEnd.runs, warmUp: endToEnd.warmUp, log });
const flatMemory = await runFlatMemory({ workDir, counts: endToEnd.flatCounts, log });
const latency = await runLatency({ workDir, samples: endToEnd.latencySamples, warmUp: endToEnd.latencyWarmUp, gapMs: endToEnd.gapMs, log });
const scaling = await runScaling({ workDir, records: endToEnd.scalingRecords, runs: endToEnd.scalingRuns, log });

const results = { machine: describeMachine(), quick, impls: impls.map(({ id, label, available, note }) => ({ id, label, available, note })), micro, macro, startup, memory, breakdown, limits, reload, rewire, http, fuelWallTime, fileToFile, flatMemory, latency, scaling, nexmark };
const json = join(dirname(out), basename(out, '.md') + '.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(json, JSON.stringify(results, null, 2) + '\n');
await writeFile(chart, renderChart(micro));
const previous = await readFile(out, 'utf8').catch(() => undefined);
await writeFile(out, keepSectionsMeasuredApart(renderResults({ ...results, chartFile: basename(chart) }) + '\n', previous));
log(`wrote ${out}, ${chart} and ${json} (the raw figures)`);
