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
