/**
 * One instance of a processor node (a lane) and its task: it takes batches
 * from its input, runs each through the plugin under the node's `onError`
 * policy (see on-error.ts) and emits what comes out. Keyed state writes are
 * staged per call: committed when the call succeeds, rolled back when it fails.
 *
 * An instance with a packed path (`processPacked`) is called with the batch
 * packed (a packed batch as it is, records packed once) and its output is
 * checked ({@link PackedBatch.fromPluginOutput}) before it goes on, still
 * packed; other instances get record objects.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { PluginModule } from '../../engine/engine.js';
import type { ProcessorInstance } from '../../contract/plugin.js';
import { messageOf } from '../../errors/errors.js';
import { concatBatches, packedOf, recordsOf, sliceBatch } from '../../records/batch.js';
import type { Batch } from '../../records/batch.js';
import { PackedBatch } from '../../records/packed-batch.js';
import { StagedKeyedState } from '../../state/keyed-state.js';
import type { BatchChannel } from '../batch-channel.js';
import { isBarrier } from '../barrier.js';
import { BatchFormer } from '../batch-former.js';
import { decideOnError } from '../on-error.js';
import type { Wiring } from '../wiring.js';
import { importsKeyedState } from '../../linker/state-imports.js';
import type { CallTurns } from './call-turns.js';
import type { LaneBarrier } from './lane-barrier.js';
import type { OperatorContext } from './operator-context.js';
import { setAside } from './set-aside.js';

/** One instance of a processor node; its keyed state writes are staged per call. */
export class ProcessorLane {
  #instance: ProcessorInstance;
  /** Whether the instance's plugin imports keyed state (only then do its calls take turns). */
  #usesState: boolean;
  readonly #state: StagedKeyedState;
  #version: number;
  readonly #ctx: OperatorContext;
  /** The node's turns for the current wiring's run (see call-turns.ts). */
  #turns: CallTurns | undefined;

  private constructor(instance: ProcessorInstance, usesState: boolean, state: StagedKeyedState, version: number, ctx: OperatorContext) {
    this.#instance = instance;
    this.#usesState = usesState;
    this.#state = state;
    this.#version = version;
    this.#ctx = ctx;
  }

  /** A configured instance of `node` running `module`, staging its writes on the node's keyed state. */
  static async create(node: NodeConfig, module: PluginModule, ctx: OperatorContext): Promise<ProcessorLane> {
    const version = ctx.version(node.id);
    const state = new StagedKeyedState(ctx.instances.state(node));
    return new ProcessorLane(await configuredProcessor(node, module, state, ctx), importsKeyedState(module.imports), state, version, ctx);
  }

  /**
   * Runs the lane, fed by `input`, until the input ends; a failure under
   * `onError: fail` fails the run. At a checkpoint barrier the lane meets
   * the node's other lanes (`barrier`; the keyed state is the node's, a lane
   * holds nothing else) and forwards it, also to its dead-letter sink.
   * With `turns`, each call and its commit (and a new instance's configure)
   * wait for the node's other lanes' when the plugin can use keyed state
   * (see call-turns.ts).
   */
  async run(node: NodeConfig, input: BatchChannel, wiring: Wiring, barrier?: LaneBarrier, turns?: CallTurns): Promise<void> {
    this.#turns = turns;
    const ctx = this.#ctx;
    const outputs = wiring.outputs(node.id);
    const deadLetter = wiring.deadLetterOf(node);
    const stats = ctx.stats(node.id);
    const resources = ctx.instances.resources(node.id)!;
    const log = ctx.logger;

    /** Runs one batch under the node's `onError` policy and returns what to emit. */
    const runBatch = async (batch: Batch): Promise<Batch> => {
      const servicesReady = ctx.servicesReady();
      if (servicesReady) await servicesReady;
      if (this.#version !== ctx.version(node.id)) {
        // A reloaded plugin: switch between batches; keyed state lives in the host and carries over.
        this.#version = ctx.version(node.id);
        await this.#recreate(node.id);
      }
      for (let attempt = 1; ; attempt++) {
        try {
          const output = await this.#inTurn(() => this.#call(batch, node.id));
          stats.filtered += Math.max(0, batch.length - output.length);
          return output;
        } catch (error) {
          resources.recordFailure(error);
          const decision = decideOnError(node.onError, error, { attempt, size: batch.length, isolatable: true, recreatable: true });
          if (decision.recreate) {
            await this.#recreate(node.id);
            stats.restarts++;
          }
          switch (decision.action) {
            case 'retry':
              log.warn({ node: node.id, attempt, err: messageOf(error) }, 'batch failed; retrying');
              await sleep(decision.delayMs);
              continue;
            case 'fail':
              stats.errors += batch.length;
              throw error;
            case 'isolate': {
              const outputs: Batch[] = [];
              for (let i = 0; i < batch.length; i++) {
                const out = await runBatch(sliceBatch(batch, i, i + 1));
                if (out.length > 0) outputs.push(out);
              }
              return outputs.length > 0 ? concatBatches(outputs) : [];
            }
            case 'set-aside':
              await setAside(decision.as, node, recordsOf(batch), error, { stats, logger: log, deadLetter });
              return [];
          }
        }
      }
    };

    const batches = new BatchFormer(input, node.batch);
    try {
      for (let batch = await batches.next(); batch; batch = await batches.next()) {
        if (isBarrier(batch)) {
          await barrier?.arrive(batch.epoch);
          await Promise.all([outputs.emitBarrier(batch.epoch), deadLetter?.pushBarrier(batch.epoch)]);
          continue;
        }
        stats.in += batch.length;
        const output = await runBatch(batch);
        await ctx.emit(outputs, output, stats);
      }
    } catch (error) {
      ctx.fail(error, node);
    } finally {
      barrier?.leave();
      outputs.close();
      deadLetter?.closeProducer();
    }
  }

  /** One call of the plugin; its keyed state writes are committed when it succeeds, rolled back when it fails. */
  async #call(batch: Batch, id: string): Promise<Batch> {
    const instance = this.#instance;
    try {
      let output: Batch;
      if (instance.processPacked) {
        // Checked here whatever the instance did: nothing downstream reads a plugin's bytes unchecked.
        output = PackedBatch.fromPluginOutput(await instance.processPacked(packedOf(batch).bytes), this.#ctx.node(id).limits.maxOutputBytes);
      } else {
        output = await instance.process(recordsOf(batch));
      }
      this.#state.commit();
      return output;
    } catch (error) {
      this.#state.rollback();
      throw error;
    }
  }

  /** Closes the lane's instance. */
  close(): void {
    this.#instance.close();
  }

  /** Runs `step` (a call, or a configure, and its commit) in the node's turn when its plugin can use keyed state. */
  #inTurn<T>(step: () => Promise<T>): Promise<T> {
    return this.#turns && this.#usesState ? this.#turns.take(step) : step();
  }

  /** A new instance of the node's plugin as it is now (a reload or an edit may have changed plugin, config or limits). */
  async #recreate(id: string): Promise<void> {
    this.#instance.close();
    const module = this.#ctx.module(id);
    this.#usesState = importsKeyedState(module.imports);
    // Its configure may write keyed state: committed in the turn, like a call.
    this.#instance = await this.#inTurn(() => configuredProcessor(this.#ctx.node(id), module, this.#state, this.#ctx));
  }
}

async function configuredProcessor(node: NodeConfig, module: PluginModule, state: StagedKeyedState, ctx: OperatorContext): Promise<ProcessorInstance> {
  const instance = (await ctx.instances.create(node, module, state)) as ProcessorInstance;
  await instance.configure(JSON.stringify(node.config));
  state.commit();
  return instance;
}
