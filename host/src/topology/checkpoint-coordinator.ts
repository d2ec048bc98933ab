/**
 * Coordinates the barrier checkpoints of one run (asynchronous barrier
 * snapshotting, as Flink and Arroyo do it).
 *
 * How an epoch goes:
 * 1. Every `intervalMs`, when no epoch is in flight and the run is not
 *    rewiring, the coordinator starts epoch n and raises the signal sources
 *    race their polls against ({@link CheckpointCoordinator.request}).
 * 2. Each source, between polls (or while a poll waits for input), reports
 *    its position for n and pushes `Barrier{n}` into its outputs. Channels
 *    carry the barrier in order and align it where several producers meet;
 *    every processor and sink snapshots what it holds when barrier n reaches
 *    it and reports that ({@link report}).
 * 3. Once every node of the wiring has reported n, or has ended in this
 *    wiring (its input finished: what it reported at its end is final), the
 *    checkpoint is written in one store transaction. When it is durable,
 *    `onDurable` acknowledges plugin sources and commits sinks.
 *
 * Keyed-state changes are incremental: each report hands over the keys that
 * changed since the node's previous report, and they stay queued here until
 * a write takes them, so an aborted epoch (a rewire, a stop) loses none.
 * Parts (positions, sink tokens, windows) are replaced whole: the latest of
 * each node is written every time. What a node hands over after it reported
 * the epoch in flight (its input ended meanwhile) is after that epoch's cut:
 * it is held back until the epoch's write has taken its snapshot, so a
 * checkpoint never mixes a source's end with a sink's length at the barrier.
 * Nodes no longer in the pipeline (removed by an edit) are dropped from what
 * is written.
 *
 * Lifecycle: `start()` arms the timer; `pause()`/`resume()` bracket a rewire
 * (the in-flight epoch is dropped); `final()` writes the quiescent state after
 * the last wiring drained; `close()` stops the timer and waits for a write.
 */
import type { Logger } from 'pino';
import type { CheckpointPart, CheckpointStore, CheckpointWrite, NodeSignature } from '../checkpoint/checkpoint-store.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { OneShot } from './one-shot.js';

/** What one node hands over at a barrier or at its end in a wiring. */
export interface NodeContribution {
  /** Replaces the node's parts (source position, sink token, window snapshots). */
  parts?: readonly CheckpointPart[];
  /** Keyed-state changes since the node's previous contribution (binary keys; `null` = deleted), handed over: the coordinator keeps (and may add to) this map. */
  state?: Map<string, Uint8Array | null>;
}

/** What a coordinator needs. */
export interface CheckpointCoordinatorOptions {
  intervalMs: number;
  /** Where checkpoints go; `undefined`: barriers run in memory only, so plugin sources get acks. */
  store: CheckpointStore | undefined;
  /** The pipeline as it runs now, stored with each checkpoint. */
  graph: () => NodeSignature[];
  /** The epoch after the restored checkpoint's (1 on a fresh start). */
  firstEpoch: number;
  logger: Logger;
  /** A checkpoint is durable: acknowledge sources and commit sinks with these parts. */
  onDurable(epoch: number, parts: ReadonlyMap<string, readonly CheckpointPart[]>): void;
  /** Writing a checkpoint failed: the run fails with this error. */
  onFailure(error: WeirError): void;
}

/** Figures of the checkpoints taken so far, for the run summary. */
export interface CheckpointStats {
  completed: number;
  /** The last completed epoch. */
  lastEpoch?: number;
  /** From the start of the last completed epoch to durable (ms). */
  lastDurationMs?: number;
  /** Keyed-state rows the last checkpoint wrote (changed keys). */
  lastChangedKeys?: number;
}

interface InFlight {
  epoch: number;
  waiting: Set<string>;
  startedAt: number;
}

/** The checkpoints of one run. */
export class CheckpointCoordinator {
  readonly #options: CheckpointCoordinatorOptions;
  #nextEpoch: number;
  #inFlight: InFlight | undefined;
  /** Nodes that take part in epochs in the current wiring. */
  #participants = new Set<string>();
  /** Participants whose tasks ended in the current wiring (their last contribution is final). */
  #ended = new Set<string>();
  readonly #parts = new Map<string, readonly CheckpointPart[]>();
  /** Keyed-state changes not written yet, by node. */
  #state = new Map<string, Map<string, Uint8Array | null>>();
  /** Contributions of nodes that had already reported the epoch in flight: applied once it is written or dropped. */
  #heldBack: Array<{ node: string; contribution: NodeContribution; ended: boolean }> = [];
  /** Raised when the next epoch starts; replaced each time. */
  #request = new OneShot();
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #closed = false;
  /** Set when a write failed. */
  #failed = false;
  #writing: Promise<void> | undefined;
  readonly #stats: CheckpointStats = { completed: 0 };

  constructor(options: CheckpointCoordinatorOptions) {
    this.#options = options;
    this.#nextEpoch = options.firstEpoch;
  }

  /** Arms the interval timer. */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => this.#tick(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** The epoch sources should inject now, if one is in flight. */
  get requestedEpoch(): number | undefined {
    return this.#inFlight?.epoch;
  }

  /**
   * The signal raised when the next epoch starts: a source that injected
   * every requested epoch races its poll against it.
   */
  get request(): OneShot {
    return this.#request;
  }

  /** Figures so far. */
  get stats(): CheckpointStats {
    return { ...this.#stats };
  }

  /** A new wiring starts with these participants (nodes that snapshot; services do not). */
  beginWiring(participants: Iterable<string>): void {
    this.#abort();
    this.#participants = new Set(participants);
    this.#ended = new Set();
  }

  /** Stops starting epochs (a rewire is pending) and drops the one in flight. */
  pause(): void {
    this.#paused = true;
    this.#abort();
  }

  resume(): void {
    this.#paused = false;
  }

  /**
   * Node `node` left the pipeline (an edit removed it; its tasks are over):
   * later checkpoints hold no part of it, and the next one deletes its keyed
   * state (`keys`: the internal keys it holds now), so a node added later
   * under its id starts empty.
   */
  removed(node: string, keys: Iterable<string>): void {
    this.#parts.delete(node);
    const deletions = new Map<string, Uint8Array | null>();
    for (const k of this.#state.get(node)?.keys() ?? []) deletions.set(k, null);
    for (const k of keys) deletions.set(k, null);
    if (deletions.size > 0) this.#state.set(node, deletions);
    else this.#state.delete(node);
  }

  /** Node `node` passed barrier `epoch` holding `contribution`. Reports for an epoch no longer in flight keep their state changes. */
  report(node: string, epoch: number, contribution: NodeContribution): void {
    if (this.#holdBack(node, contribution, false)) return;
    this.#take(node, contribution);
    const flight = this.#inFlight;
    if (!flight || flight.epoch !== epoch) return;
    flight.waiting.delete(node);
    this.#completeIfReady();
  }

  /** Node `node`'s tasks ended in this wiring; `contribution` is what it holds now. */
  ended(node: string, contribution: NodeContribution): void {
    if (this.#holdBack(node, contribution, true)) return;
    this.#take(node, contribution);
    this.#ended.add(node);
    this.#inFlight?.waiting.delete(node);
    this.#completeIfReady();
  }


  /** Holds back what a node hands over after it reported the epoch in flight (see the module comment); true when held. */
  #holdBack(node: string, contribution: NodeContribution, ended: boolean): boolean {
    const flight = this.#inFlight;
    if (!flight || flight.waiting.has(node) || !this.#participants.has(node)) return false;
    this.#heldBack.push({ node, contribution, ended });
    return true;
  }

  /** Applies what was held back for the epoch that was just written or dropped. */
  #releaseHeldBack(): void {
    const held = this.#heldBack;
    this.#heldBack = [];
    for (const { node, contribution, ended } of held) {
      this.#take(node, contribution);
      if (ended) this.#ended.add(node);
    }
  }

  /**
   * Writes what every node holds after the last wiring drained (a stop or the
   * end of the input): nothing is in flight, so no barrier is needed.
   */
  async final(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#abort();
    await this.#writing;
    // A write that failed has failed the run: nothing more is written.
    if (this.#failed) return;
    const epoch = this.#nextEpoch++;
    await this.#write(epoch, performance.now()).catch((error: unknown) => {
      throw storeFailure(epoch, error);
    });
  }

  /** Stops the timer and waits for a write in progress; nothing more is written. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#abort();
    await this.#writing?.catch(() => {});
  }

  #tick(): void {
    if (this.#paused || this.#closed || this.#inFlight || this.#writing) return;
    const waiting = new Set([...this.#participants].filter((id) => !this.#ended.has(id)));
    if (waiting.size === 0) return;
    this.#inFlight = { epoch: this.#nextEpoch++, waiting, startedAt: performance.now() };
    const raised = this.#request;
    this.#request = new OneShot();
    raised.raise();
  }

  #abort(): void {
    this.#inFlight = undefined;
    this.#releaseHeldBack();
  }

  #take(node: string, { parts, state }: NodeContribution): void {
    if (parts) this.#parts.set(node, parts);
    if (state && state.size > 0) {
      const queued = this.#state.get(node);
      // The node hands its change record over (takeChanges): kept as it is, not copied.
      if (!queued) this.#state.set(node, state as Map<string, Uint8Array | null>);
      else for (const [k, v] of state) queued.set(k, v);
    }
  }

  #completeIfReady(): void {
    const flight = this.#inFlight;
    if (!flight || flight.waiting.size > 0) return;
    this.#inFlight = undefined;
    // The write takes its snapshot of parts and state before its first await; what was held back comes after it.
    this.#writing = this.#write(flight.epoch, flight.startedAt)
      .catch((error: unknown) => {
        this.#failed = true;
        this.#options.onFailure(storeFailure(flight.epoch, error));
      })
      .finally(() => (this.#writing = undefined));
    this.#releaseHeldBack();
  }

  /** Writes the queued state changes and the latest parts as checkpoint `epoch`. */
  async #write(epoch: number, startedAt: number): Promise<void> {
    const graph = this.#options.graph();
    const present = new Set(graph.map((n) => n.id));
    for (const id of [...this.#parts.keys(), ...this.#state.keys()]) {
      if (present.has(id)) continue;
      this.#parts.delete(id);
      this.#state.delete(id);
    }
    const state = this.#state;
    this.#state = new Map();
    const parts = new Map(this.#parts);
    let changedKeys = 0;
    if (this.#options.store) {
      const checkpoint: CheckpointWrite = {
        epoch,
        takenAt: new Date().toISOString(),
        graph,
        parts: [...parts.values()].flat(),
        state: [...state].map(([node, changes]) => {
          changedKeys += changes.size;
          return { node, changes };
        }),
      };
      await this.#options.store.write(checkpoint);
    }
    this.#stats.completed++;
    this.#stats.lastEpoch = epoch;
    this.#stats.lastDurationMs = performance.now() - startedAt;
    this.#stats.lastChangedKeys = changedKeys;
    this.#options.logger.debug({ epoch, durationMs: this.#stats.lastDurationMs, changedKeys }, 'checkpoint complete');
    this.#options.onDurable(epoch, parts);
  }
}

/** The run's error when checkpoint `epoch` could not be written: `WEIR_CHECKPOINT_STORE`, its details naming the epoch (and what the store named: its file). */
function storeFailure(epoch: number, error: unknown): WeirError {
  const details = error instanceof WeirError ? error.details : {};
  return new WeirError('WEIR_CHECKPOINT_STORE', `writing checkpoint ${epoch} failed: ${messageOf(error)}`, { ...details, epoch }, { cause: error });
}
