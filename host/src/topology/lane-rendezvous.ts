/**
 * Where the lanes (instances) of a parallel node meet at a checkpoint
 * barrier. The lanes share one keyed state, so it can be snapshotted at one
 * cut only when none of them is processing: each lane that reaches barrier n
 * waits; when the last one arrives, the snapshot runs once, then every lane
 * resumes. A lane whose input has ended leaves, and counts as arrived at
 * every later barrier, so the others never wait for it.
 *
 * Epochs follow the channel's rules: an arrival below the epoch being
 * gathered (a straggler of an aborted checkpoint), or at an epoch already
 * done, returns at once; a higher epoch abandons the lower one.
 */

/** The epoch being gathered, the snapshot to run, and the lanes waiting. */
interface Gathering {
  readonly epoch: number;
  arrived: number;
  readonly snapshot: () => Promise<void>;
  readonly waiters: Array<{ resolve: (last: boolean) => void; reject: (error: unknown) => void }>;
}

/** The barrier meeting point of one parallel node's lanes. */
export class LaneRendezvous {
  /** Lanes still reading input. */
  #present: number;
  #gathering: Gathering | undefined;
  #highestEpoch = Number.NEGATIVE_INFINITY;
  #closed = false;

  /** @param lanes the node's instance count */
  constructor(lanes: number) {
    this.#present = lanes;
  }

  /**
   * One lane reached barrier `epoch`. Resolves when every lane has reached
   * it (or left) and `snapshot` has run: `true` for the last lane to arrive
   * (whose `snapshot` ran), `false` for the others, and `false` at once for
   * a dropped arrival or after {@link close}. Rejects every waiting lane with
   * the snapshot's error if it throws.
   */
  arrive(epoch: number, snapshot: () => Promise<void>): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (epoch < this.#highestEpoch || (epoch === this.#highestEpoch && !this.#gathering)) return Promise.resolve(false);
    if (epoch > this.#highestEpoch) {
      this.#release();
      this.#highestEpoch = epoch;
      this.#gathering = { epoch, arrived: 0, snapshot, waiters: [] };
    }
    const gathering = this.#gathering!;
    gathering.arrived++;
    const waiting = new Promise<boolean>((resolve, reject) => gathering.waiters.push({ resolve, reject }));
    this.#complete(snapshot);
    return waiting;
  }

  /** A lane's input ended: it counts as arrived at this and every later barrier. */
  leave(): void {
    this.#present--;
    this.#complete(undefined);
  }

  /** Releases every waiting lane (with `false`) and makes later arrivals return at once: the run is over. */
  close(): void {
    this.#closed = true;
    this.#release();
  }

  /** Runs the snapshot and releases the lanes once everyone present has arrived. */
  #complete(lastSnapshot: (() => Promise<void>) | undefined): void {
    const gathering = this.#gathering;
    if (!gathering || gathering.arrived < this.#present) return;
    this.#gathering = undefined;
    const last = gathering.waiters.length - 1;
    // The last to arrive runs its own snapshot; when a leave completes the meeting, the first arrival's runs.
    const snapshot = lastSnapshot ?? gathering.snapshot;
    const lastIndex = lastSnapshot ? last : 0;
    new Promise<void>((resolve) => resolve(snapshot())).then(
      () => gathering.waiters.forEach((w, i) => w.resolve(i === lastIndex)),
      (error: unknown) => gathering.waiters.forEach((w) => w.reject(error)),
    );
  }

  #release(): void {
    const gathering = this.#gathering;
    this.#gathering = undefined;
    if (gathering) for (const w of gathering.waiters) w.resolve(false);
  }
}
