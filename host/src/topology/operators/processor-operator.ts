/**
 * A processor node: its instances (lanes: {@link ProcessorLane}, or
 * {@link AggregatorLane} for a windowed node), each with its own bounded
 * input. With more than one lane, a dispatcher splits each input batch among
 * them (see {@link Partitioner}); every lane emits downstream on its own, so
 * per-key order holds under `partition: key`.
 */
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { PluginModule } from '../../engine/engine.js';
import { Partitioner } from '../partitioner.js';
import { instancesOf } from '../wiring.js';
import type { Wiring } from '../wiring.js';
import { AggregatorLane } from './aggregator-lane.js';
import type { NodeOperator, OperatorContext } from './operator-context.js';
import { ProcessorLane } from './processor-lane.js';

/** One instance of a processor node. */
export type Lane = ProcessorLane | AggregatorLane;

/** A processor node: its lanes. */
export class ProcessorOperator implements NodeOperator {
  readonly kind = 'processor';
  readonly #lanes: Lane[];

  private constructor(lanes: Lane[]) {
    this.#lanes = lanes;
  }

  /** Creates the node's instances (configured); if one cannot be created, those created are closed. */
  static async create(node: NodeConfig, module: PluginModule | undefined, ctx: OperatorContext): Promise<ProcessorOperator> {
    const lanes: Lane[] = [];
    try {
      for (let i = 0; i < instancesOf(node); i++) lanes.push(await createLane(node, module!, ctx));
    } catch (error) {
      for (const lane of lanes) lane.close();
      throw error;
    }
    return new ProcessorOperator(lanes);
  }

  /** How many lanes the node runs. */
  get lanes(): number {
    return this.#lanes.length;
  }

  /** Adds `extra` lanes (created beforehand), then closes lanes beyond `count` (a rewire changed the parallelism). */
  resize(extra: readonly Lane[], count: number): void {
    this.#lanes.push(...extra);
    for (const lane of this.#lanes.splice(count)) lane.close();
  }

  // Checkpoints: snapshot() / restore() of the node's keyed state and each lane's windows go here.

  /** Runs every lane (and the dispatcher, with more than one) until the node's input ends. */
  async run(node: NodeConfig, wiring: Wiring): Promise<void> {
    const lanes = this.#lanes;
    const input = wiring.input(node.id);
    if (lanes.length === 1) return lanes[0]!.run(node, input, wiring);
    const laneInputs = wiring.laneInputs(node.id, lanes.length);
    const dispatch = async (): Promise<void> => {
      const partitioner = new Partitioner(node.partition, lanes.length);
      try {
        for (let batch = await input.pull(); batch; batch = await input.pull()) {
          const parts = partitioner.split(batch);
          for (let i = 0; i < lanes.length; i++) if (parts[i]!.length > 0) await laneInputs[i]!.push(parts[i]!);
        }
      } finally {
        for (const laneInput of laneInputs) laneInput.closeProducer();
      }
    };
    await Promise.all([dispatch(), ...lanes.map((lane, i) => lane.run(node, laneInputs[i]!, wiring))]);
  }

  /** Closes every lane's instance. */
  async close(): Promise<void> {
    for (const lane of this.#lanes) lane.close();
  }
}

/** A configured instance of a processor node, as the node and its plugin are now. */
export function createLane(node: NodeConfig, module: PluginModule, ctx: OperatorContext): Promise<Lane> {
  return node.window ? AggregatorLane.create(node, module, ctx) : ProcessorLane.create(node, module, ctx);
}
