// JS (QuickJS) plugin throughput, A against B interleaved: generator ->
// processor -> null sink, batches of 1024, in the CPU modes given, for each
// .wasm given (default: plugins/uppercase-js.wasm). Prints records/s per run
// and min / median / max per plugin and mode, and the process's CPU time per
// record (user + system, all threads: steadier than records/s on a shared
// machine, where wall time waits for other processes).
//
//   node bench/js-plugin-speed.js [--modes fuel,none] [--runs 5] [--count 65536] [a.wasm b.wasm ...]
//
// (needs dist/: npm run build:host)
import { throughput } from './limits.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../dist/engine/engine.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { modes: { type: 'string', default: 'fuel,none' }, runs: { type: 'string', default: '5' }, count: { type: 'string', default: '65536' } },
});
const files = positionals.length > 0 ? positionals : [join(import.meta.dirname, '../plugins/uppercase-js.wasm')];
const modes = values.modes.split(',');
const runs = Number(values.runs);
const count = Number(values.count);


const engine = new Engine({ cacheDir: join(await mkdtemp(join(tmpdir(), 'weir-js-speed-')), 'cache') });
const subjects = [];
for (const file of files) subjects.push({ name: basename(file), module: await engine.load(file) });
const results = new Map();
const cpuPerRecord = new Map();
for (const subject of subjects) for (const mode of modes) await throughput(subject.module, mode, 8192);
for (let run = 0; run < runs; run++) {
  for (const subject of subjects) {
    for (const mode of modes) {
      const cpu = process.cpuUsage();
      const rate = await throughput(subject.module, mode, count);
      const { user, system } = process.cpuUsage(cpu);
      const key = `${subject.name} ${mode}`;
      results.set(key, [...(results.get(key) ?? []), rate]);
      cpuPerRecord.set(key, [...(cpuPerRecord.get(key) ?? []), (user + system) / count]);
      process.stderr.write(`${key}: ${Math.round(rate).toLocaleString('en')} records/s\n`);
    }
  }
}
for (const [key, rates] of results) {
  rates.sort((a, b) => a - b);
  const k = (x) => `${(x / 1000).toFixed(1)}k`;
  const cpu = cpuPerRecord.get(key).sort((a, b) => a - b);
  const us = (x) => x.toFixed(2);
  console.log(`${key.padEnd(40)} median ${k(rates[Math.floor(rates.length / 2)])} [${k(rates[0])} - ${k(rates.at(-1))}] records/s; CPU ${us(cpu[Math.floor(cpu.length / 2)])} [${us(cpu[0])} - ${us(cpu.at(-1))}] µs/record`);
}
