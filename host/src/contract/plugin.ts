/**
 * What the topology sees of a loaded plugin instance, whatever it was built
 * from (a component through jco, or a core module through the AssemblyScript
 * loader). The instance layer (`instance/`) adapts their exports to these
 * shapes. Host and plugin agree on these: the bottom layer, with the limits
 * and grants.
 */
import type { StreamRecord } from '../records/record.js';

/** What one instance has used so far. */
export interface ResourceUsage {
  calls: number;
  /** Fuel spent over all calls (0 unless metered). */
  fuelUsed: bigint;
  /** Wall-clock milliseconds spent inside calls. */
  callMs: number;
  /** Most linear-memory pages the instance has held. */
  memoryPagesHighWater: number;
}

/** What every instance reports of the resources it used. */
export interface MeteredInstance {
  /** Calls, fuel, time in calls and memory high-water mark so far. */
  usage(): ResourceUsage;
}

/**
 * The worlds of wit/plugin.wit a plugin can fill: one per node kind, plus
 * `aggregator`, the world of a processor node with a `window`.
 */
export type PluginKind = 'source' | 'processor' | 'sink' | 'service' | 'aggregator';

/** Every node kind (plugin world). */
export const PLUGIN_KINDS: readonly PluginKind[] = ['source', 'processor', 'aggregator', 'sink', 'service'];

/** The lifecycle of one plugin instance. */
export type InstanceState = 'ready' | 'busy' | 'poisoned' | 'closed';

/**
 * A processor: configured once, then called with batches. `configure` and
 * `process` may return promises, for instances that run off the calling
 * thread (a worker) or behind an asynchronous host API.
 */
export interface ProcessorInstance extends MeteredInstance {
  readonly kind: 'processor';
  configure(config: string): void | Promise<void>;
  process(batch: StreamRecord[]): StreamRecord[] | Promise<StreamRecord[]>;
  /**
   * Present when the plugin takes whole batches in the packed format
   * (records/batch-codec.ts): `batch` is one packed batch, the result is the
   * packed output, a buffer the caller owns (never a view of guest memory).
   * The engine prefers it to `process` when the batch it holds is packed;
   * it runs under the same fuel, memory cap, output cap and CallGuard.
   * `batch` may be shared with other readers (a broadcast, a view into a
   * larger buffer): read or copy it, never write to it or transfer its
   * buffer. The engine checks the output (records/packed-batch.ts,
   * `PackedBatch.fromPluginOutput`) before anything reads it.
   */
  processPacked?(batch: Uint8Array): Uint8Array | Promise<Uint8Array>;
  close(): void;
}

/** A processor whose calls complete on the calling thread, as the in-thread component and core-module instances are. */
export interface InThreadProcessorInstance extends ProcessorInstance {
  configure(config: string): void;
  process(batch: StreamRecord[]): StreamRecord[];
  processPacked?(batch: Uint8Array): Uint8Array;
}

/** What a source returns from one poll. */
export interface PollResult {
  records: StreamRecord[];
  /** Opaque resume position after these records; handed back through `ack`. */
  position: Uint8Array | undefined;
  /** True when the source has nothing more, ever. */
  done: boolean;
}

/** A source: opened with its config (and a position to resume from), then polled. */
export interface SourceInstance extends MeteredInstance {
  readonly kind: 'source';
  open(config: string, resumeFrom: Uint8Array | undefined): void;
  poll(max: number): PollResult;
  ack(position: Uint8Array): void;
  close(): void;
}

/** A sink: opened, written batch by batch, flushed at the end. */
export interface SinkInstance extends MeteredInstance {
  readonly kind: 'sink';
  open(config: string): void;
  write(batch: StreamRecord[]): void;
  flush(): void;
  close(): void;
}

/** A service: called by processors through the host import `call-service`. */
export interface ServiceInstance extends MeteredInstance {
  readonly kind: 'service';
  configure(config: string): void;
  call(method: string, payload: Uint8Array): Uint8Array;
  close(): void;
}

/** An event-time window, [start, end) in ms since the epoch. */
export interface EventWindow {
  start: bigint;
  end: bigint;
}

/** A windowed aggregation: the host keeps accumulators per key and window and asks for output when a window closes. */
export interface AggregatorInstance extends MeteredInstance {
  readonly kind: 'aggregator';
  configure(config: string): void;
  accumulate(accumulator: Uint8Array | undefined, record: StreamRecord): Uint8Array;
  merge(a: Uint8Array, b: Uint8Array): Uint8Array;
  emit(key: Uint8Array | undefined, window: EventWindow, accumulator: Uint8Array): StreamRecord[];
  close(): void;
}

/** Any plugin instance. */
export type PluginInstance = ProcessorInstance | SourceInstance | SinkInstance | ServiceInstance | AggregatorInstance;

/** The exports each kind's world requires, by WIT name. */
export const REQUIRED_EXPORTS: Readonly<Record<PluginKind, readonly string[]>> = {
  processor: ['configure', 'process'],
  source: ['open', 'poll', 'ack', 'close'],
  sink: ['open', 'write', 'flush'],
  service: ['configure', 'call'],
  aggregator: ['configure', 'accumulate', 'merge', 'emit'],
};
