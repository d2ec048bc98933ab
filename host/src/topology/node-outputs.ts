/**
 * Where a node's records go. A plugin chooses a named output for a record by
 * setting the header `weir-output` (the host removes it); readers select an
 * output in their `inputs` as `"node.output"`, and plain `"node"` reads the
 * records without the header. Records sent to an output nobody reads are
 * counted as dropped.
 */
import { isPacked } from '../records/batch.js';
import type { Batch } from '../records/batch.js';
import type { StreamRecord } from '../records/record.js';
import type { BatchChannel } from './batch-channel.js';

/** The header that names a record's output. */
export const OUTPUT_HEADER = 'weir-output';

/** One edge: an output of this node and the channel of a node reading it. */
export interface OutputRoute {
  output: string;
  channel: BatchChannel;
}

/** What {@link NodeOutputs.emit} did with a batch. */
export interface EmitCount {
  delivered: number;
  unrouted: number;
  /** Records a cancelled reader refused (counted per reader): the run failed or its drain timed out. */
  refused: number;
}

const decoder = new TextDecoder();

/** The outputs of one node instance (each instance is a producer of every channel it feeds). */
export class NodeOutputs {
  readonly #routes: readonly OutputRoute[];

  constructor(routes: readonly OutputRoute[]) {
    this.#routes = routes;
  }

  /** Pushes each record to the readers of its output, waiting while they are full. */
  async emit(batch: Batch): Promise<EmitCount> {
    if (batch.length === 0) return { delivered: 0, unrouted: 0, refused: 0 };
    let delivered = 0;
    let unrouted = 0;
    let refused = 0;
    for (const [output, records] of splitByOutput(batch)) {
      const routes = this.#routes.filter((r) => r.output === output);
      if (routes.length === 0) {
        unrouted += records.length;
        continue;
      }
      delivered += records.length;
      for (const route of routes) if (!(await route.channel.push(records))) refused += records.length;
    }
    return { delivered, unrouted, refused };
  }

  /**
   * Pushes barrier `epoch` to every channel this node feeds, all at once, and
   * resolves when every channel has aligned it (a channel with other
   * producers holds this one until they reach the barrier too). Pushing to
   * all channels together, not one after another, is what keeps two nodes
   * that feed the same two channels from waiting on each other forever.
   * Each route counts, as in {@link close}: a channel fed by two routes of
   * this node gets two arrivals, matching the two producers it counts.
   */
  async emitBarrier(epoch: number): Promise<void> {
    await Promise.all(this.#routes.map((route) => route.channel.pushBarrier(epoch)));
  }

  /** This producer is done with every channel it feeds. */
  close(): void {
    for (const route of this.#routes) route.channel.closeProducer();
  }
}

/**
 * Groups a batch by output, in order, removing the output header; the common
 * case (no header) costs one scan, and a packed batch whose records carry no
 * output header (known from how it was built or checked) none, and stays packed.
 */
export function splitByOutput(batch: Batch): Map<string, Batch> {
  if (isPacked(batch)) return batch.hasOutputHeader ? splitRecords(batch.records()) : new Map([['', batch]]);
  if (!batch.some(hasOutputHeader)) return new Map([['', batch]]);
  return splitRecords(batch);
}

function splitRecords(batch: StreamRecord[]): Map<string, Batch> {
  const groups = new Map<string, StreamRecord[]>();
  for (const record of batch) {
    const header = record.headers.find((h) => h.name === OUTPUT_HEADER);
    const output = header ? decoder.decode(header.value) : '';
    const routed = header ? { ...record, headers: record.headers.filter((h) => h.name !== OUTPUT_HEADER) } : record;
    let group = groups.get(output);
    if (!group) groups.set(output, (group = []));
    group.push(routed);
  }
  return groups;
}

function hasOutputHeader(record: StreamRecord): boolean {
  for (const h of record.headers) if (h.name === OUTPUT_HEADER) return true;
  return false;
}
