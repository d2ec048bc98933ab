/**
 * The channels of a run between two structural changes: a bounded
 * {@link BatchChannel} in front of every processor and sink, counting one
 * producer per instance that feeds it (fan-in merges producers into one
 * channel; fan-out is a node with several readers). A run is wired when it
 * starts and again each time an edited pipeline.json adds, removes or
 * rewires nodes. Sources that have finished feed nothing.
 *
 * Lifecycle: created per wiring; `cancel()` releases every waiter when the
 * pipeline fails.
 */
import type { NodeConfig } from '../config/pipeline-config.js';
import { downstreamOf, parseInput } from '../graph/dag.js';
import type { Route } from '../graph/dag.js';
import { BatchChannel } from './batch-channel.js';
import { NodeOutputs } from './node-outputs.js';

/** Batches a channel holds before its producers wait. */
export const CHANNEL_CAPACITY = 16;

/** The instances a node runs: `parallelism` for plugin processors, one otherwise. */
export function instancesOf(node: NodeConfig): number {
  return node.kind === 'processor' && node.implementation.type === 'plugin' ? node.parallelism : 1;
}

/** Every channel of one wiring. */
export class Wiring {
  readonly #channels = new Map<string, BatchChannel>();
  readonly #readers: Map<string, Route[]>;
  /** Inputs of the instances of parallel processors, with their node (cancelled with the rest). */
  readonly #laneChannels: Array<{ node: string; channel: BatchChannel }> = [];

  /**
   * @param nodes the pipeline as it runs now
   * @param producing whether a source still produces (finished sources feed nothing)
   */
  constructor(nodes: readonly NodeConfig[], producing: (sourceId: string) => boolean) {
    this.#readers = downstreamOf(nodes);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const producers = (id: string): number => {
      const node = byId.get(id)!;
      return node.kind === 'source' && !producing(id) ? 0 : instancesOf(node);
    };
    for (const node of nodes) {
      if (node.kind === 'processor' || node.kind === 'sink') {
        this.#channels.set(node.id, new BatchChannel(CHANNEL_CAPACITY, node.inputs.reduce((n, input) => n + producers(parseInput(input).node), 0)));
      }
    }
    for (const node of nodes) {
      if (node.onError.policy !== 'dead-letter' || !node.onError.deadLetter) continue;
      for (let i = 0; i < producers(node.id); i++) this.#channels.get(node.onError.deadLetter)?.addProducer();
    }
  }

  /** The input channel of a processor or sink. */
  input(id: string): BatchChannel {
    return this.#channels.get(id)!;
  }

  /** The dead-letter channel of `node`, if it has one. */
  deadLetterOf(node: NodeConfig): BatchChannel | undefined {
    return node.onError.deadLetter ? this.#channels.get(node.onError.deadLetter) : undefined;
  }

  /** The outputs of one instance of node `id`. */
  outputs(id: string): NodeOutputs {
    return new NodeOutputs((this.#readers.get(id) ?? []).map(({ output, reader }) => ({ output, channel: this.#channels.get(reader)! })));
  }

  /** One single-producer input per instance of parallel processor `id`. */
  laneInputs(id: string, count: number): BatchChannel[] {
    const inputs = Array.from({ length: count }, () => new BatchChannel(CHANNEL_CAPACITY, 1));
    for (const channel of inputs) this.#laneChannels.push({ node: id, channel });
    return inputs;
  }

  /** The most batches queued in front of node `id` in this wiring. */
  highWater(id: string): number {
    return this.#channels.get(id)?.highWater ?? 0;
  }

  /**
   * Drops everything queued and releases every waiter (the pipeline failed,
   * or a drain ran out of time). Returns the records dropped, by the node
   * they were queued for (nodes with none are left out).
   */
  cancel(): Map<string, number> {
    const dropped = new Map<string, number>();
    const count = (node: string, records: number) => {
      if (records > 0) dropped.set(node, (dropped.get(node) ?? 0) + records);
    };
    for (const [node, channel] of this.#channels) count(node, channel.cancel());
    for (const { node, channel } of this.#laneChannels) count(node, channel.cancel());
    return dropped;
  }
}
