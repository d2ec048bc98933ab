/**
 * Turns for the plugin calls of a parallel node's lanes when they run on the
 * main thread (cpu modes `fuel` and `none` without `cpu.thread: "worker"`). The lanes share the node's
 * keyed state, and a lane commits its staged writes only once its call's
 * promise resolves: another lane's call starting in between reads the state
 * without them and its commit then overwrites them (lost updates of a key two
 * lanes count, as round-robin and broadcast do and keyless records under
 * `partition: key` do). Lanes that meet at every checkpoint barrier resume
 * together, which makes that interleaving the rule. Taking turns costs
 * nothing there: calls on the main thread never overlap anyway.
 *
 * Worker lanes run their calls truly in parallel only under `partition: key`,
 * where each key's records go to one lane (a plugin keeping state under keys
 * other than its records' keys, or for keyless records, races there: the
 * docs say so). Under round-robin and broadcast, where every lane counts the
 * same keys, worker lanes take turns too. Turns are taken only by plugins
 * that import keyed state (linker/state-imports.ts): the others run at once.
 */
import type { NodeConfig } from '../../config/pipeline-config.js';
import { cpuRunnerOf } from '../../sandbox/cpu-mode.js';

/** Runs one call (and its commit) at a time. */
export class CallTurns {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `call` once every call queued before it has settled. */
  take<T>(call: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(call);
    this.#tail = result.catch(() => {});
    return result;
  }
}

/** Turns for `node`'s lanes, or undefined when it has one lane, or its lanes run in workers on disjoint keys (`partition: key`). */
export function callTurnsFor(node: NodeConfig, lanes: number): CallTurns | undefined {
  if (lanes <= 1) return undefined;
  const inWorkers = cpuRunnerOf({ cpuMode: node.limits.cpu.mode, cpuThread: node.limits.cpu.thread }) !== 'in-thread';
  return inWorkers && node.partition === 'key' ? undefined : new CallTurns();
}
