/**
 * Keyed state of one node. Keys and values are bytes; the in-memory store is
 * the default until durable stores and snapshots arrive with checkpoints.
 */

/** The state operations a plugin reaches through the `state` host import. */
export interface KeyedState {
  get(key: Uint8Array): Uint8Array | undefined;
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** Number of keys held. */
  readonly size: number;
}

/** A {@link KeyedState} held in a `Map`. Values are copied in and out. */
export class MemoryKeyedState implements KeyedState {
  readonly #entries = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    const value = this.#entries.get(mapKey(key));
    return value === undefined ? undefined : value.slice();
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.#entries.set(mapKey(key), value.slice());
  }

  delete(key: Uint8Array): void {
    this.#entries.delete(mapKey(key));
  }

  get size(): number {
    return this.#entries.size;
  }
}

function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * A node's keyed state as one plugin instance sees it during a call: writes
 * are staged and reach the node's state only on {@link commit}, so a call
 * that fails (a trap, an error result, a limit) leaves no trace, and a
 * retried or isolated record counts once.
 */
export class StagedKeyedState implements KeyedState {
  readonly #base: KeyedState;
  /** Staged writes by key; `null` marks a delete. */
  readonly #staged = new Map<string, Uint8Array | null>();

  constructor(base: KeyedState) {
    this.#base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const staged = this.#staged.get(mapKey(key));
    if (staged === null) return undefined;
    return staged === undefined ? this.#base.get(key) : staged.slice();
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.#staged.set(mapKey(key), value.slice());
  }

  delete(key: Uint8Array): void {
    this.#staged.set(mapKey(key), null);
  }

  /** Keys in the node's state (staged writes not counted until committed). */
  get size(): number {
    return this.#base.size;
  }

  /** Applies the staged writes to the node's state. */
  commit(): void {
    for (const [key, value] of this.#staged) {
      const bytes = Buffer.from(key, 'latin1');
      if (value === null) this.#base.delete(bytes);
      else this.#base.set(bytes, value);
    }
    this.#staged.clear();
  }

  /** Drops the staged writes. */
  rollback(): void {
    this.#staged.clear();
  }
}
