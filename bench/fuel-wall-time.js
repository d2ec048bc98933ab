// CPU budget against wall time: how long a call runs before its fuel is
// spent, per unit of fuel, for the kinds of work a runaway plugin can do in
// fuel mode: a tight loop of plain instructions, bulk memory and table
// instructions, and host calls that move small and large values (core
// modules and a QuickJS component). The factor F the docs promise is the
// slowest fixture's nanoseconds per unit over the tight loop's.
//
//   node bench/fuel-wall-time.js          (needs dist/: npm run build:host)
//
// Each fixture loops forever; the call is timed until it fails with
// WEIR_LIMIT_CPU (median of 3 calls, each on a fresh instance, after one
// untimed warm-up call on a tenth of the budget).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { Engine } from '../dist/engine/engine.js';
import { instantiate } from '../dist/instance/instantiate.js';
import { instantiateCorePlugin } from '../dist/instance/core-module-instance.js';
import { createHostContext } from '../dist/linker/host-context.js';
import { DirectoryUsages } from '../dist/linker/directory-quota.js';
import { MemoryKeyedState } from '../dist/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../dist/contract/limits.js';
import { instrumentModule } from '../dist/sandbox/instrument/instrument.js';
import { buildPlugin } from '../dist/build/plugin-build.js';
import { describeMachine } from './machine.js';

const MIB = 1 << 20;
/** The folder usage counts of this thread's instances (none of the core fixtures is granted a folder). */
const directories = new DirectoryUsages();

/** A core-module processor whose weir_process runs `body` forever (locals $i, $n). */
const coreLoop = (body, extra = '') => parse(`(module
  (import "weir" "state_get" (func $get (param i32 i32) (result i32)))
  (import "weir" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 64)
  ${extra}
  (data (i32.const 0) "k")
  (func (export "weir_abi_version") (result i32) i32.const 1)
  (func (export "weir_alloc") (param i32) (result i32) i32.const 4096)
  (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
  (func (export "weir_output_ptr") (result i32) i32.const 16)
  (func (export "weir_output_len") (result i32) i32.const 4)
  (func (export "weir_process") (param i32 i32) (result i32) (local $i i32) (local $n i32)
    (loop $again ${body} (br $again))
    i32.const 0))`);

const CORE_FIXTURES = [
  { id: 'tight', label: 'tight loop (i32.add, br)', body: '(local.set $i (i32.add (local.get $i) (i32.const 1)))' },
  { id: 'fill', label: 'memory.fill of 64 KiB', body: `(memory.fill (i32.const ${MIB}) (local.get $i) (i32.const 65536))` },
  { id: 'copy', label: 'memory.copy of 1 MiB', body: `(memory.copy (i32.const ${2 * MIB}) (i32.const ${MIB}) (i32.const ${MIB}))` },
  { id: 'table', label: 'table.fill of 65536 externref', body: '(table.fill $t (i32.const 0) (ref.null extern) (i32.const 65536))', extra: '(table $t 65536 externref)' },
  { id: 'state-small', label: 'state-get of a 1-byte value (core)', body: '(drop (call $get (i32.const 0) (i32.const 1)))', value: 1 },
  { id: 'state-big', label: 'state-get of a 1 MiB value (core)', body: '(drop (call $get (i32.const 0) (i32.const 1)))', value: MIB },
  { id: 'log', label: 'log of 64 KiB (core, pino to a discarding stream)', body: `(call $log (i32.const 2) (i32.const ${MIB}) (i32.const 65536))` },
];

function host(value) {
  const state = new MemoryKeyedState();
  if (value) state.set(new Uint8Array([107]), new Uint8Array(value));
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  return createHostContext({
    node: 'bench', plugin: 'bench.wasm', config: {}, logger: pino({ level: 'info' }, discard), state,
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });
}

/** Times `call` until it fails with WEIR_LIMIT_CPU; ms. */
function timeToBreach(call) {
  const started = performance.now();
  try {
    call();
  } catch (error) {
    if (error?.code !== 'WEIR_LIMIT_CPU') throw error;
    return performance.now() - started;
  }
  throw new Error('the call returned: it should have run out of fuel');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Measures every fixture; returns rows with ns per unit of fuel. */
export async function runFuelWallTime({ log = () => {}, budget = 1_000_000_000, runs = 3, components = true } = {}) {
  const limits = { ...instanceLimits(DEFAULT_LIMITS), cpuMode: 'fuel', fuel: BigInt(budget) };
  const rows = [];
  for (const fixture of CORE_FIXTURES) {
    const { bytes } = instrumentModule(await coreLoop(fixture.body, fixture.extra), { maxMemoryPages: limits.memoryPages, maxTableElements: 1 << 20, fuel: limits.fuel });
    const module = await WebAssembly.compile(bytes);
    // Warm-up on a tenth of the budget, so the timed calls run optimized code (V8 tiers up hot wasm functions).
    const warm = await instantiateCorePlugin(module, 'processor', host(fixture.value), { ...limits, fuel: limits.fuel / 10n }, directories);
    timeToBreach(() => warm.process([]));
    const times = [];
    for (let run = 0; run < runs; run++) {
      const instance = await instantiateCorePlugin(module, 'processor', host(fixture.value), limits, directories);
      times.push(timeToBreach(() => instance.process([])));
    }
    rows.push({ id: fixture.id, label: fixture.label, budget, runs, ms: median(times) });
    log(`fuel-wall-time: ${fixture.label}: ${median(times).toFixed(1)} ms for ${budget} fuel`);
  }

  // QuickJS components: a JS loop, and a JS loop of 1 MiB state reads.
  if (!components) return finish(rows);
  const dir = await mkdtemp(join(tmpdir(), 'weir-fuel-bench-'));
  const fixtures = fileURLToPath(new URL('../host/test/fixtures/plugins/', import.meta.url));
  await Promise.all(['misbehave-js', 'hostcall-loop-js'].map((name) => buildPlugin(join(fixtures, name), dir)));
  const engine = new Engine({ cacheDir: join(dir, 'cache') });
  const record = { key: null, value: new TextEncoder().encode('x'), headers: [], eventTime: 0n };
  const componentFixtures = [
    { id: 'js-loop', label: 'QuickJS `for (;;) {}` (component)', file: 'misbehave-js.wasm', config: { mode: 'loop' }, value: 0 },
    { id: 'js-state', label: 'QuickJS loop of 1 MiB state reads (component)', file: 'hostcall-loop-js.wasm', config: { bytes: MIB, reads: 1e12 }, value: 0 },
  ];
  for (const fixture of componentFixtures) {
    const module = await engine.load(join(dir, fixture.file));
    const warm = await instantiate(module, 'processor', host(fixture.value), { ...limits, fuel: limits.fuel / 10n });
    warm.configure(JSON.stringify(fixture.config));
    timeToBreach(() => warm.process([record]));
    const times = [];
    for (let run = 0; run < runs; run++) {
      const instance = await instantiate(module, 'processor', host(fixture.value), limits);
      instance.configure(JSON.stringify(fixture.config));
      times.push(timeToBreach(() => instance.process([record])));
      instance.close();
    }
    rows.push({ id: fixture.id, label: fixture.label, budget, runs, ms: median(times) });
    log(`fuel-wall-time: ${fixture.label}: ${median(times).toFixed(1)} ms for ${budget} fuel`);
  }
  return finish(rows);
}

function finish(rows) {
  const tight = rows.find((r) => r.id === 'tight');
  for (const row of rows) {
    row.nsPerFuel = (row.ms * 1e6) / row.budget;
    row.ratio = row.nsPerFuel / tight.nsPerFuel;
    row.defaultBudgetSeconds = (row.nsPerFuel * DEFAULT_LIMITS.fuel) / 1e9;
  }
  return rows;
}

/** The markdown section for RESULTS.md. */
export function renderFuelWallTime(rows) {
  const out = [];
  const factor = Math.max(...rows.map((r) => r.ratio));
  out.push('## CPU budget against wall time (fuel mode)');
  out.push('');
  out.push(`\`node bench/fuel-wall-time.js\`: each fixture loops forever under a budget of ${rows[0].budget.toLocaleString('en-US')} fuel; the call is timed until it fails with \`WEIR_LIMIT_CPU\` (median of ${rows[0].runs}). F, the slowest fixture's time per unit of fuel over the tight loop's, is **${factor.toFixed(1)}** in this run: no fixture's call ran longer than F times what its budget buys in a tight loop. The prices behind it are in docs/pipeline.md (limits); the figures move with the machine's load, so compare ratios within one run.`);
  out.push('');
  out.push('| fixture | ms to breach | ns per fuel | x tight loop | at the default 5 * 10^9 fuel |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const r of rows) out.push(`| ${r.label} | ${r.ms.toFixed(1)} | ${r.nsPerFuel.toFixed(3)} | ${r.ratio.toFixed(2)} | ${r.defaultBudgetSeconds.toFixed(1)} s |`);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runFuelWallTime({ log: (line) => process.stderr.write(line + '\n') });
  const machine = describeMachine();
  process.stdout.write([`Measured on ${machine.date}. Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}.`, '', ...renderFuelWallTime(rows), ''].join('\n'));
}
