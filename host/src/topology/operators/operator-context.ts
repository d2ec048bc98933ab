/**
 * What a node's operator gets from the run it is part of: an explicit,
 * small surface (counters, the node's config and plugin as they run now,
 * instance creation, emitting, failing) instead of the run's internals.
 *
 * An operator owns what its node holds (its runtime: instances, windows, an
 * open sink or source and its position) for as long as the node lives, and
 * runs the node's task once per wiring.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { ConnectorContext, ConnectorRegistry } from '../../connectors/connector.js';
import type { PluginModule } from '../../engine/engine.js';
import type { Batch } from '../../records/batch.js';
import type { CheckpointPart } from '../../checkpoint/checkpoint-store.js';
import type { CheckpointCoordinator } from '../checkpoint-coordinator.js';
import type { NodeOutputs } from '../node-outputs.js';
import type { OneShot } from '../one-shot.js';
import type { PluginInstances } from '../plugin-instances.js';
import type { NodeStats } from '../run-summary.js';
import type { Wiring } from '../wiring.js';

/** The run, as its operators see it. */
export interface OperatorContext {
  readonly logger: Logger;
  /** Creates plugin instances with their node's host functions; holds each node's keyed state. */
  readonly instances: PluginInstances;
  readonly connectors: ConnectorRegistry;
  /** The node's counters. */
  stats(id: string): NodeStats;
  /** The node's config as it runs now (an edit may have replaced it). */
  node(id: string): NodeConfig;
  /** The plugin module the node runs now (hot reload replaces it). */
  module(id: string): PluginModule;
  /** The node's plugin version: bumped when its plugin is replaced; instances compare it before each batch. */
  version(id: string): number;
  /** What a built-in connector of `node` gets (its node id names it in errors and logs). */
  connectorContext(node: NodeConfig): ConnectorContext;
  /** Emits `batch` and counts it: delivered records as `out`, records nobody reads as `dropped`. */
  emit(outputs: NodeOutputs, batch: Batch, stats: NodeStats): Promise<void>;
  /** A processor or sink failed: the run fails at once. */
  fail(error: unknown, node: NodeConfig): void;
  /** A source failed: the run stops as at a stop, drains, then fails. */
  sourceFailed(error: unknown, node: NodeConfig): void;
  /** Whether the run has failed. */
  failed(): boolean;
  /** Whether `id` goes on after the wiring that is draining now (a pending rewire keeps it). */
  keeps(id: string): boolean;
  /** Whether sources keep polling: the run is running, has not failed, and no rewire is pending. */
  polling(): boolean;
  /** Raised when sources must stop waiting for input (a stop, a failure or a rewire) in the current wiring. */
  interrupt(): OneShot;
  /** The run's checkpoints (barriers to inject and forward, snapshots to report), or undefined when it takes none. */
  checkpoints(): CheckpointCoordinator | undefined;
  /**
   * Whether checkpoints are stored. Without (barriers run in memory only, so
   * plugin sources are acknowledged), sinks are not synced and windows not
   * encoded at barriers: nothing would keep them.
   */
  storesCheckpoints(): boolean;
  /** What the checkpoint the run was restored from holds for node `id` (empty on a fresh start). */
  restored(id: string): RestoredNode;
  /**
   * Whether a stop keeps what nodes hold for the next run (checkpoints are
   * stored): open windows stay open in the final checkpoint instead of being
   * flushed.
   */
  savepointing(): boolean;
  /** While a service is being restarted, resolves once none is (processors wait before each batch); undefined otherwise. */
  servicesReady(): Promise<unknown> | undefined;
}

/** What a restored checkpoint holds for one node. */
export interface RestoredNode {
  /** Its parts: a source position, a sink token, window snapshots (one per lane). */
  readonly parts: readonly CheckpointPart[];
  /** Its keyed state, whole. */
  readonly state: ReadonlyArray<readonly [Uint8Array, Uint8Array]>;
}

/**
 * A node's operator: what the node holds, and its task. Each operator
 * snapshots what it holds when a checkpoint barrier passes it (reported to
 * the run's {@link CheckpointCoordinator}) and restores it when created
 * from {@link OperatorContext.restored}.
 */
export interface NodeOperator {
  readonly kind: 'source' | 'processor' | 'sink' | 'service';
  /** The node's task in one wiring (`node`: its config as that wiring runs it): it ends when its input ends (or, for a source, when it stops). */
  run(node: NodeConfig, wiring: Wiring): Promise<void>;
  /** A checkpoint holding `parts` (this node's) is durable: a source acknowledges its position, a sink commits. */
  durable?(parts: readonly CheckpointPart[]): void;
  /** Closes what the node holds (for good: the node is removed or the run ends). */
  close(): Promise<void>;
}
