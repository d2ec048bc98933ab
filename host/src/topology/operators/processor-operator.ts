/**
 * A processor node: its instances (lanes: {@link ProcessorLane}, or
 * {@link AggregatorLane} for a windowed node), each with its own bounded
 * input. With more than one lane, a dispatcher splits each input batch among
 * them (see {@link Partitioner}); every lane emits downstream on its own, so
 * per-key order holds under `partition: key`.
 *
 * Checkpoints: the dispatcher passes a barrier to every lane; each lane
 * hands over its part (an aggregator lane: its open windows) and waits at
 * the node's {@link LaneRendezvous} until every lane has reached the
 * barrier, so the keyed state the lanes share is taken at one cut; then the
 * lanes forward the barrier. A restored node gets its keyed state back
 * before its instances are configured, and each aggregator lane its windows
 * (redistributed by key when the parallelism changed).
 */
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { PluginModule } from '../../engine/engine.js';
import type { CheckpointPart } from '../../checkpoint/checkpoint-store.js';
import { isBarrier } from '../barrier.js';
import { LaneRendezvous } from '../lane-rendezvous.js';
import { Partitioner } from '../partitioner.js';
import { decodeWindowSnapshot, redistributeWindows } from '../window-snapshot.js';
import { instancesOf } from '../wiring.js';
import type { Wiring } from '../wiring.js';
import { AggregatorLane } from './aggregator-lane.js';
import { callTurnsFor } from './call-turns.js';
import type { NodeOperator, OperatorContext } from './operator-context.js';
import type { LaneBarrier } from './lane-barrier.js';
import { ProcessorLane } from './processor-lane.js';

/** One instance of a processor node. */
export type Lane = ProcessorLane | AggregatorLane;

/** A processor node: its lanes. */
export class ProcessorOperator implements NodeOperator {
  readonly kind = 'processor';
  readonly #lanes: Lane[];
  readonly #ctx: OperatorContext;

  private constructor(lanes: Lane[], ctx: OperatorContext) {
    this.#lanes = lanes;
    this.#ctx = ctx;
  }

  /**
   * Creates the node's instances (configured), restoring its keyed state
   * and windows from the checkpoint the run resumes from; if one cannot be
   * created, those created are closed.
   */
  static async create(node: NodeConfig, module: PluginModule | undefined, ctx: OperatorContext): Promise<ProcessorOperator> {
    const restored = ctx.restored(node.id);
    if (restored.state.length > 0) ctx.instances.state(node).restore(restored.state);
    const lanes: Lane[] = [];
    try {
      for (let i = 0; i < instancesOf(node); i++) lanes.push(await createLane(node, module!, ctx));
      const windows = restored.parts.filter((p) => p.part === 'windows').sort((a, b) => a.lane - b.lane);
      if (windows.length > 0) {
        const aggregators = lanes as AggregatorLane[];
        const merge = (a: Uint8Array, b: Uint8Array) => aggregators[0]!.merge(a, b);
        const snapshots = redistributeWindows(windows.map((p) => decodeWindowSnapshot(p.data)), lanes.length, node.partition, merge);
        snapshots.forEach((snapshot, i) => aggregators[i]!.restore(snapshot));
      }
    } catch (error) {
      for (const lane of lanes) lane.close();
      throw error;
    }
    return new ProcessorOperator(lanes, ctx);
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

  /** Runs every lane (and the dispatcher, with more than one) until the node's input ends. */
  async run(node: NodeConfig, wiring: Wiring): Promise<void> {
    const lanes = this.#lanes;
    const input = wiring.input(node.id);
    const barriers = this.#laneBarriers(node);
    try {
      if (lanes.length === 1) return await lanes[0]!.run(node, input, wiring, barriers?.[0]);
      const laneInputs = wiring.laneInputs(node.id, lanes.length);
      const dispatch = async (): Promise<void> => {
        const partitioner = new Partitioner(node.partition, lanes.length);
        try {
          for (let batch = await input.pull(); batch; batch = await input.pull()) {
            if (isBarrier(batch)) {
              for (const laneInput of laneInputs) await laneInput.pushBarrier(batch.epoch);
              continue;
            }
            const parts = partitioner.split(batch);
            for (let i = 0; i < lanes.length; i++) if (parts[i]!.length > 0) await laneInputs[i]!.push(parts[i]!);
          }
        } finally {
          for (const laneInput of laneInputs) laneInput.closeProducer();
        }
      };
      const turns = callTurnsFor(node, lanes.length);
      await Promise.all([dispatch(), ...lanes.map((lane, i) => (lane instanceof ProcessorLane ? lane.run(node, laneInputs[i]!, wiring, barriers?.[i], turns) : lane.run(node, laneInputs[i]!, wiring, barriers?.[i])))]);
    } finally {
      barriers?.at(0)?.close();
    }
  }

  /**
   * What each lane does at a barrier and at its end (none without
   * checkpoints): hand over its part, meet the other lanes, and (the last to
   * arrive) report the node's snapshot: its lanes' parts and the keyed-state
   * changes since the last one. When every lane has ended, the node's final
   * snapshot is reported as ended.
   */
  #laneBarriers(node: NodeConfig): LaneBarrier[] | undefined {
    const checkpoints = this.#ctx.checkpoints();
    if (!checkpoints) return undefined;
    const ctx = this.#ctx;
    const count = this.#lanes.length;
    const rendezvous = new LaneRendezvous(count);
    const parts: Array<CheckpointPart | undefined> = new Array(count);
    const snapshot = () => ({ parts: parts.filter((p) => p !== undefined), state: ctx.instances.takeStateChanges(node.id) });
    let running = count;
    return Array.from({ length: count }, (_, lane): LaneBarrier => ({
      arrive: async (epoch, windows) => {
        if (windows) parts[lane] = { node: node.id, lane, part: 'windows', data: windows };
        await rendezvous.arrive(epoch, async () => checkpoints.report(node.id, epoch, snapshot()));
      },
      leave: (windows) => {
        if (windows) parts[lane] = { node: node.id, lane, part: 'windows', data: windows };
        rendezvous.leave();
        if (--running === 0 && !ctx.failed()) checkpoints.ended(node.id, snapshot());
      },
      close: () => rendezvous.close(),
    }));
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
