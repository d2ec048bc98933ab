/**
 * The typed, immutable form of pipeline.json that everything after
 * `compilePipeline()` works with. Defaults are filled in; paths are absolute.
 */
import type { PluginKind } from '../contract/plugin.js';
import type { LimitsSettings } from '../contract/limits.js';
import type { CapabilityGrants } from '../contract/grants.js';

/** One problem found in a pipeline file. */
export interface Problem {
  /** JSON pointer into the pipeline file (`/nodes/2/inputs/0`); `""` for the whole file. */
  pointer: string;
  /** What is wrong. */
  message: string;
  /** How to fix it, when there is something useful to say. */
  hint?: string;
}

/** How batches form in front of a node. */
export interface BatchConfig {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly lingerMs: number;
}


/** An event-time window of an aggregating processor. */
export interface WindowConfig {
  readonly type: 'tumbling' | 'sliding' | 'session';
  /** Window length (tumbling, sliding). */
  readonly sizeMs: number;
  /** Start-to-start distance of sliding windows (equals sizeMs for tumbling). */
  readonly slideMs: number;
  /** Inactivity that ends a session. */
  readonly gapMs: number;
  readonly allowedLatenessMs: number;
  /** Named output of late records. */
  readonly lateOutput: string;
}

/** What a node does when its plugin fails on a batch. */
export interface OnErrorConfig {
  readonly policy: 'fail' | 'skip' | 'retry' | 'dead-letter';
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly deadLetter?: string;
}

/** Where a node's behaviour comes from. */
export type NodeImplementation =
  | { readonly type: 'plugin'; readonly file: string; readonly path: string }
  | { readonly type: 'connector'; readonly name: string };

/** One node, with defaults applied. */
export interface NodeConfig {
  readonly id: string;
  readonly kind: PluginKind;
  readonly implementation: NodeImplementation;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputs: readonly string[];
  readonly parallelism: number;
  readonly partition: 'round-robin' | 'key' | 'broadcast';
  readonly batch: BatchConfig;
  /** Sandbox limits, defaults filled in (see `DEFAULT_LIMITS`). */
  readonly limits: LimitsSettings;
  /** Present on a windowed aggregation (a processor whose plugin fills the aggregator world). */
  readonly window?: WindowConfig;
  /** Capabilities granted to the node's plugin (none by default). */
  readonly capabilities: CapabilityGrants;
  readonly onError: OnErrorConfig;
  /** Index in the file's `nodes` array, for JSON pointers. */
  readonly index: number;
}

/**
 * What a checkpoint promises about the records the sinks write, across a
 * crash and restart (docs/pipeline.md, "Checkpoints"):
 * - `exactly-once`: on restore the file sink cuts what it wrote after the last
 *   checkpoint, so each record lands in it once (stdout, plugin sinks and
 *   side effects cannot be taken back: they stay at-least-once);
 * - `at-least-once`: sinks keep what they wrote; records after the last checkpoint may repeat;
 * - `none`: state and positions are checkpointed, sinks are not asked to do anything.
 */
export type Delivery = 'exactly-once' | 'at-least-once' | 'none';

/** The pipeline's `checkpoint` block, defaults filled in. */
export interface CheckpointConfig {
  /** Time between the starts of two checkpoints (ms, >= 50). */
  readonly intervalMs: number;
  /** Absolute folder holding `<pipeline name>/checkpoint.db`. */
  readonly dir: string;
  readonly delivery: Delivery;
}

/** Checkpoint defaults when the block is present but leaves a field out. */
export const DEFAULT_CHECKPOINT = { intervalMs: 1000, dir: '.weir', delivery: 'exactly-once' } as const;

/** A whole pipeline, ready to run. */
export interface PipelineConfig {
  readonly name: string;
  /** Absolute path of the pipeline file. */
  readonly file: string;
  /** Folder of the pipeline file. */
  readonly baseDir: string;
  /** Absolute plugins folder. */
  readonly pluginsDir: string;
  readonly nodes: readonly NodeConfig[];
  /** Checkpoints, when the file has a `checkpoint` block (absent: no checkpoints). */
  readonly checkpoint?: CheckpointConfig;
}

/** Batch defaults when neither the node nor `defaults` sets them. */
export const DEFAULT_BATCH: BatchConfig = { maxRecords: 1024, maxBytes: 1 << 20, lingerMs: 5 };

/** The `onError` default: stop the pipeline, so no failure goes unnoticed. */
export const DEFAULT_ON_ERROR: OnErrorConfig = { policy: 'fail', maxAttempts: 3, backoffMs: 100 };
