/** What a `PipelineRun` needs besides its config. */
import type { Logger } from 'pino';
import type { Readable, Writable } from 'node:stream';
import type { CheckpointStore, StoredCheckpoint } from '../checkpoint/checkpoint-store.js';
import type { Delivery, NodeConfig } from '../config/pipeline-config.js';
import type { ConnectorRegistry } from '../connectors/connector.js';
import type { PluginModule } from '../engine/engine.js';
import type { Instantiate } from '../instance/instantiate.js';
import type { ServiceCaller } from '../linker/host-context.js';

/** What a run needs besides its config. */
export interface RunDependencies {
  /** Loaded and checked plugin modules by node id (see `checkPlugins`). */
  modules: ReadonlyMap<string, PluginModule>;
  connectors: ConnectorRegistry;
  logger: Logger;
  stdin: Readable;
  stdout: Writable;
  /** A further check before a node switches to a new plugin (hot reload, pipeline edits); `host run` passes the sample self-test. */
  checkBeforeSwitch?: BeforeSwitchCheck;
  /** Creates every plugin instance of the run (default: instance/instantiate.ts); tests pass one that observes or stands in. */
  instantiate?: Instantiate;
  /** Checkpoints to take, and the one to resume from (none: nothing is stored; see docs/pipeline.md, "Checkpoints"). */
  checkpoints?: RunCheckpoints;
}

/** How a run takes checkpoints. */
export interface RunCheckpoints {
  store: CheckpointStore;
  intervalMs: number;
  delivery: Delivery;
  /** The last completed checkpoint, to resume from (none: a fresh start). */
  restored?: StoredCheckpoint;
}

/**
 * Checks `module` as `node`'s next plugin after the built-in checks; throws
 * to refuse it, returns the number of records it checked. `callService`
 * reaches the pipeline's services as the node does.
 */
export type BeforeSwitchCheck = (module: PluginModule, node: NodeConfig, callService: ServiceCaller) => Promise<number>;
