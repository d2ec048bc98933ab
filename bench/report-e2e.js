// The end-to-end sections of bench/RESULTS.md (file to file, flat memory, latency,
// parallelism scaling) and the issue-17 targets, from the rows of e2e.js, latency.js,
// scaling.js, memory.js, macro.js and breakdown.js.
const fmt = (n, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rate = (n) => (n >= 1e6 ? `${fmt(n / 1e6, 2)}M` : n >= 1e3 ? `${fmt(n / 1e3, 1)}k` : fmt(n));
const MIB = (n) => fmt(n);

/** "Measured on DATE on MACHINE": every end-to-end section says it. */
export function measuredOn(machine) {
  return `Measured on ${machine.date} by this run (\`npm run bench\`). Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}.`;
}

/** Markdown lines of the end-to-end sections; empty when the run had none. */
export function renderEndToEnd({ machine, fileToFile = [], flatMemory = [], latency = [], scaling = [] }) {
  const out = [];
  const line = (s = '') => out.push(s);
  if (fileToFile.length) {
    const measured = fileToFile.find((r) => !r.error);
    line('## End to end, file to file');
    line();
    line(measuredOn(machine));
    line();
    line(`${fmt(fileToFile[0].records)} JSONL records of about 150 bytes (\`{"key":…,"value":"<~100 lower-case ASCII characters>","eventTime":…}\`, written once by \`bench/e2e/input.js\`), value upper-cased, written to a file; each path is a whole process, from spawn to exit, ${measured ? (measured.runs === 1 ? 'one run' : `median of ${measured.runs} runs`) : 'runs'} [min – max], the paths interleaved (one run of each per round). \`host run\` is the real CLI (dist/) with default settings (no \`limits\` or \`batch\` block, the watcher on), plugins from \`plugins/\`. Peak RSS is the process's high-water mark (VmHWM, read by a preloaded \`bench/e2e/peak-rss.js\` as it exits; worker threads included). Every run's output is checked against the plain script's, byte for byte (for \`parallelism: 2\`: the same lines, in any order); a path whose output differs is refused.`);
    line();
    line('| path | wall s, median [min – max] | vs plain script | records/s | peak RSS MiB, median [min – max] |');
    line('| --- | --- | --- | --- | --- |');
    for (const r of fileToFile) {
      if (r.error) {
        line(`| ${r.label} | **refused**: ${r.error} | – | – | – |`);
        continue;
      }
      line(`| ${r.label} | ${fmt(r.wallMs.median / 1000, 2)} [${fmt(r.wallMs.min / 1000, 2)} – ${fmt(r.wallMs.max / 1000, 2)}] | ${fmt(r.vsPlain, 2)}x the time | ${rate(r.recordsPerSec)} | ${MIB(r.peakRssMiB.median)} [${MIB(r.peakRssMiB.min)} – ${MIB(r.peakRssMiB.max)}] |`);
    }
    line();
  }
  if (flatMemory.length) {
    line('## Flat memory on a long stream');
    line();
    line(measuredOn(machine));
    line();
    line('`host run` of stdin -> uppercase-as -> stdout (to /dev/null), default settings, the records piped into its stdin from a generator process (`node bench/e2e/input.js N`: the same records as the file-to-file table, so no input file is written); one run per length; peak RSS as above (the host process only). The summary must count every record written.');
    line();
    line('| records | peak RSS MiB | wall s |');
    line('| --- | --- | --- |');
    for (const r of flatMemory) line(`| ${fmt(r.records)} | ${MIB(r.peakRssMiB)} | ${fmt(r.wallMs / 1000, 1)} |`);
    const flat = flatMemoryVerdict(flatMemory);
    if (flat) {
      line();
      line(`${fmt(flat.longer)} records against ${fmt(flat.shorter)}: peak RSS ${flat.growth >= 0 ? '+' : '−'}${fmt(Math.abs(100 * flat.growth), 1)}% (target: within 10%, and under 200 MiB).`);
    }
    line();
  }
  if (latency.length) {
    line('## Latency of a lone record');
    line();
    line(measuredOn(machine));
    line();
    line(`\`host run\` of stdin -> uppercase-as -> stdout: one line written to its stdin, its output line awaited, then ${latency[0].gapMs} ms before the next, so every record arrives alone; ${latency[0].samples} records (after a few unmeasured ones), time from the write to the output line.`);
    line();
    line('| batch settings | p50 ms | p99 ms | max ms |');
    line('| --- | --- | --- | --- |');
    for (const r of latency) line(`| ${r.label} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.maxMs, 2)} |`);
    line();
  }
  if (scaling.length) {
    line('## Parallelism scaling');
    line();
    line(measuredOn(machine));
    line();
    line(`\`host run\` of generator (${fmt(scaling[0].records)} records) -> a CPU-bound plugin (\`bench/plugins/hash-as\`: 64 rounds of FNV-1a per record) -> null, at \`parallelism\` 1 and 2, in each cpu mode and in mode fuel with \`cpu.thread: "worker"\` (each instance on a worker thread of its own); records/s from the run summary, median [min – max] of interleaved runs. On ${machine.cores} cores the ideal is ${Math.min(2, machine.cores)}x.`);
    line();
    line('| cpu mode | parallelism 1, records/s | parallelism 2, records/s | 2 / 1 |');
    line('| --- | --- | --- | --- |');
    for (const mode of [...new Set(scaling.map((r) => r.mode))]) {
      const one = scaling.find((r) => r.mode === mode && r.parallelism === 1);
      const two = scaling.find((r) => r.mode === mode && r.parallelism === 2);
      const cell = (r) => `${rate(r.recordsPerSec.median)} [${rate(r.recordsPerSec.min)} – ${rate(r.recordsPerSec.max)}]`;
      line(`| ${mode} | ${cell(one)} | ${cell(two)} | ${fmt(two.vsOne, 2)}x |`);
    }
    line();
  }
  return out;
}

/** The longest stream's peak RSS against the shortest's: `{ shorter, longer, growth, peakMiB }`, or undefined. */
export function flatMemoryVerdict(flatMemory) {
  if (flatMemory.length < 2) return undefined;
  const [first, last] = [flatMemory[0], flatMemory.at(-1)];
  return { shorter: first.records, longer: last.records, growth: last.peakRssMiB / first.peakRssMiB - 1, peakMiB: Math.max(...flatMemory.map((r) => r.peakRssMiB)) };
}

/**
 * The targets of issue 17 ("Performance end to end"), each `{ target, result, met }`
 * (`met` undefined: not measured by this run).
 */
export function endToEndTargets({ macro = [], breakdown, fileToFile = [], flatMemory = [], latency = [], memory = [], nexmark = [] }) {
  const rows = [];
  const flat = flatMemoryVerdict(flatMemory);
  rows.push({
    target: `peak RSS flat: the same pipeline at ${flat ? `${fmt(flat.shorter)} and ${fmt(flat.longer)}` : '1M and 10M'} records within 10%, under 200 MiB`,
    result: flat ? `${flat.growth >= 0 ? '+' : '−'}${fmt(Math.abs(100 * flat.growth), 1)}%, at most ${MIB(flat.peakMiB)} MiB` : 'not measured',
    met: flat ? Math.abs(flat.growth) <= 0.1 && flat.peakMiB < 200 : undefined,
  });
  const e2e = (id) => fileToFile.find((r) => r.id === id && !r.error);
  for (const [id, name] of [['weir-as', 'AssemblyScript'], ['weir-rust', 'Rust']]) {
    const r = e2e(id);
    rows.push({ target: `file to file, ${name} plugin: at least as fast as the plain Node script (one core)`, result: r ? `${fmt(r.vsPlain, 2)}x the plain script's time` : 'not measured', met: r ? r.vsPlain <= 1 : undefined });
  }
  const p2 = e2e('weir-as-p2');
  rows.push({ target: 'file to file, `parallelism: 2` on 2 cores: 1.6x the plain Node script', result: p2 ? `${fmt(1 / p2.vsPlain, 2)}x the plain script's speed (AssemblyScript)` : 'not measured', met: p2 ? 1 / p2.vsPlain >= 1.6 : undefined });
  const inMemory = (id) => macro.find((r) => r.id === id)?.recordsPerSec.median;
  for (const [id, name] of [['assemblyscript', 'AssemblyScript'], ['rust', 'Rust (the component as the host loads it)']]) {
    const v = inMemory(id);
    rows.push({ target: `in memory (generator -> plugin -> null), ${name}: at least 2M records/s per core`, result: v ? `${rate(v)} records/s` : 'not measured', met: v ? v >= 2e6 : undefined });
  }
  const ceiling = breakdown?.ceilingRecordsPerSec;
  rows.push({ target: 'in memory, the pipeline with no processor: at least 5M records/s', result: ceiling ? `${rate(ceiling)} records/s` : 'not measured', met: ceiling ? ceiling >= 5e6 : undefined });
  const qjs = inMemory('js-qjs');
  rows.push({ target: 'JS (QuickJS) plugin in memory: at least 250k records/s (5x)', result: qjs ? `${rate(qjs)} records/s` : 'not measured', met: qjs ? qjs >= 250e3 : undefined });
  const lone = latency.find((r) => r.id === 'default');
  rows.push({ target: 'p50 latency of a lone record, stdin -> plugin -> stdout, default settings: under 1 ms', result: lone ? `${fmt(lone.p50Ms, 2)} ms` : 'not measured', met: lone ? lone.p50Ms < 1 : undefined });
  const queries = ['q0', 'q1', 'q2'].map((id) => nexmark.find((r) => r.id === id)).filter(Boolean);
  const ratios = queries.map((r) => r.perCore.median / r.flinkPerCore);
  rows.push({
    target: 'Nexmark q0-q2: at least 5x Flink\'s published per-core figure',
    result: queries.length ? queries.map((r, i) => `${r.id} ${fmt(ratios[i], 2)}x`).join(', ') : 'not measured',
    met: queries.length === 3 ? ratios.every((x) => x >= 5) : undefined,
  });
  return rows;
}
