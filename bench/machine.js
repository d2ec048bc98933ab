// What machine a benchmark ran on, for RESULTS.md.
import { cpus, totalmem, platform, release } from 'node:os';

/** CPU model, core count, memory, OS, Node version and the date. */
export function describeMachine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
}
