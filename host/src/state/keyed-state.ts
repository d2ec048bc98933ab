/**
 * Keyed state of one node. Keys and values are bytes; the in-memory store is
 * the default until durable stores and snapshots arrive with checkpoints.
 *
 * The store is bounded ({@link StateLimits}): it counts the key and value
 * bytes and the keys it holds, plus what calls have staged and not committed
 * yet. A staged view reserves its growth in the store as it writes, so the
 * write that would cross a cap fails (`WEIR_LIMIT_STATE`) before the host
 * holds its bytes, and several instances of one node (parallel lanes) share
 * one budget. A value is copied once, when staged; commit moves it.
 *
 * For incremental checkpoints the store can record which keys changed
 * ({@link MemoryKeyedStateOptions.trackChanges}): {@link MemoryKeyedState.takeChanges}
 * hands over the keys written or deleted since the last call, and
 * {@link MemoryKeyedState.restore} loads a checkpoint. Stored values are never
 * mutated (reads copy out, writes copy in), so the changes share them.
 */
import { WeirError } from '../errors/errors.js';
import { UNBOUNDED_STATE } from '../contract/limits.js';
import type { StateLimits } from '../contract/limits.js';

/** The state operations a plugin reaches through the `state` host import. */
export interface KeyedState {
  get(key: Uint8Array): Uint8Array | undefined;
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** Number of keys held. */
  readonly size: number;
}

/** How a {@link MemoryKeyedState} is kept. */
export interface MemoryKeyedStateOptions {
  /**
   * Record the keys each write or delete touches, for {@link MemoryKeyedState.takeChanges}.
   * Off by default: without checkpoints nobody takes them, and the record would
   * grow with every distinct key ever deleted.
   */
  trackChanges?: boolean;
}

/** A node's bounded keyed state held in a `Map`. Values are copied in and out. */
export class MemoryKeyedState implements KeyedState {
  readonly #entries = new Map<string, Uint8Array>();
  readonly #limits: StateLimits;
  readonly #node: string | undefined;
  /** Keys written (value) or deleted (`null`) since the last {@link takeChanges}; undefined when not tracking. */
  #changes: Map<string, Uint8Array | null> | undefined;
  /** Key and value bytes held. */
  #bytes = 0;
  /** Growth reserved by staged writes not yet committed. */
  #reservedBytes = 0;
  #reservedKeys = 0;

  /** @param node named in limit errors */
  constructor(limits: StateLimits = UNBOUNDED_STATE, node?: string, options: MemoryKeyedStateOptions = {}) {
    this.#limits = limits;
    this.#node = node;
    if (options.trackChanges) this.#changes = new Map();
  }

  /**
   * The keys changed since the last call (or since the store was made or
   * restored): internal key (see {@link keyBytes}) to its value now, `null`
   * for a deleted key. O(1): the record is handed over, not copied, and its
   * values are the stored ones, which must not be mutated. Staged writes
   * count once committed. Empty when the store does not track changes.
   */
  takeChanges(): Map<string, Uint8Array | null> {
    if (!this.#changes) return new Map();
    const changes = this.#changes;
    this.#changes = new Map();
    return changes;
  }

  /**
   * Loads a checkpoint into this store, which must be empty, before any
   * instance runs. Takes ownership of each value (one that is a view into a
   * larger buffer is copied, so that buffer is not kept alive). Restored
   * entries are not changes.
   * @throws WeirError `WEIR_LIMIT_STATE` when the checkpoint holds more than the limits allow now; the store is left empty.
   */
  restore(entries: Iterable<readonly [Uint8Array, Uint8Array]>): void {
    if (this.#entries.size > 0 || this.#reservedBytes > 0 || this.#reservedKeys > 0) {
      throw new Error(`restore needs an empty keyed state${this.#node === undefined ? '' : ` (node "${this.#node}")`}; it holds ${this.#entries.size} keys`);
    }
    for (const [key, value] of entries) {
      const k = mapKey(key);
      const owned = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
      this.#store(k, owned);
      if (this.#bytes > this.#limits.maxBytes || this.#entries.size > this.#limits.maxKeys) this.#refuseRestore();
    }
  }

  #refuseRestore(): never {
    const bytes = this.#bytes;
    const keys = this.#entries.size;
    this.#entries.clear();
    this.#bytes = 0;
    const which = bytes > this.#limits.maxBytes
      ? `more than ${this.#limits.maxBytes} bytes of keys and values (limits.maxStateBytes)`
      : `more than ${this.#limits.maxKeys} keys (limits.maxStateKeys)`;
    const where = this.#node === undefined ? 'keyed state' : `keyed state of node "${this.#node}"`;
    throw new WeirError(
      'WEIR_LIMIT_STATE',
      `the checkpoint holds ${which} for the ${where}, more than the limits allow now; raise the limit back, or start over with --fresh`,
      { node: this.#node, limit: 'state', bytes, keys, maxBytes: this.#limits.maxBytes, maxKeys: this.#limits.maxKeys },
    );
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const value = this.#entries.get(mapKey(key));
    return value === undefined ? undefined : value.slice();
  }

  /** @throws WeirError `WEIR_LIMIT_STATE` when the write would cross a cap. */
  set(key: Uint8Array, value: Uint8Array): void {
    const k = mapKey(key);
    const old = this.#entries.get(k);
    const grow = value.byteLength - (old?.byteLength ?? -key.byteLength);
    this.#check(Math.max(0, grow), old === undefined ? 1 : 0);
    this.#put(k, value.slice());
  }

  delete(key: Uint8Array): void {
    this.#put(mapKey(key), null);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The internal keys (see {@link keyBytes}) held now, committed writes only. */
  internalKeys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** Key and value bytes held (committed writes only). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes (key and value) of the entry under the internal key `k`, or `undefined` when absent. */
  entryBytes(k: string): number | undefined {
    const value = this.#entries.get(k);
    return value === undefined ? undefined : k.length + value.byteLength;
  }

  /**
   * Reserves room for `bytes` more bytes and `keys` more keys (staged writes).
   * @throws WeirError `WEIR_LIMIT_STATE` when held plus reserved would cross a cap.
   */
  reserve(bytes: number, keys: number): void {
    this.#check(bytes, keys);
    this.#reservedBytes += bytes;
    this.#reservedKeys += keys;
  }

  /** Throws when `bytes` and `keys` more, over what is held and reserved, would cross a cap. */
  #check(bytes: number, keys: number): void {
    const totalBytes = this.#bytes + this.#reservedBytes + bytes;
    const totalKeys = this.#entries.size + this.#reservedKeys + keys;
    if (totalBytes > this.#limits.maxBytes || totalKeys > this.#limits.maxKeys) {
      const which = totalBytes > this.#limits.maxBytes
        ? `${totalBytes} bytes of keys and values, above limits.maxStateBytes (${this.#limits.maxBytes})`
        : `${totalKeys} keys, above limits.maxStateKeys (${this.#limits.maxKeys})`;
      const where = this.#node === undefined ? 'keyed state' : `keyed state of node "${this.#node}"`;
      throw new WeirError(
        'WEIR_LIMIT_STATE',
        `${where} would hold ${which}, staged writes included; delete keys that are done with or raise the limit`,
        { node: this.#node, limit: 'state', bytes: totalBytes, keys: totalKeys, maxBytes: this.#limits.maxBytes, maxKeys: this.#limits.maxKeys },
      );
    }
  }

  /** Gives back room taken with {@link reserve}. */
  release(bytes: number, keys: number): void {
    this.#reservedBytes -= bytes;
    this.#reservedKeys -= keys;
  }

  /**
   * Applies writes a staged view has reserved room for, taking ownership of
   * the values (no copy); `null` deletes. Unchecked: the room was reserved.
   */
  apply(writes: ReadonlyMap<string, Uint8Array | null>): void {
    for (const [k, value] of writes) this.#put(k, value);
  }

  #put(k: string, value: Uint8Array | null): void {
    this.#changes?.set(k, value);
    this.#store(k, value);
  }

  /** Writes without recording a change. */
  #store(k: string, value: Uint8Array | null): void {
    const old = this.#entries.get(k);
    if (old !== undefined) this.#bytes -= k.length + old.byteLength;
    if (value === null) {
      this.#entries.delete(k);
      return;
    }
    this.#entries.set(k, value);
    this.#bytes += k.length + value.byteLength;
  }
}

/** The internal key of `key`: its bytes as a latin1 string (one char per byte). */
export function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * The bytes of an internal key (the inverse of {@link mapKey}), in an
 * ArrayBuffer of their own: safe to post to a worker without copying a
 * shared pool along.
 */
export function keyBytes(k: string): Uint8Array {
  const bytes = new Uint8Array(k.length);
  Buffer.from(bytes.buffer).write(k, 'latin1');
  return bytes;
}

/**
 * A node's keyed state as one plugin instance sees it during a call: writes
 * are staged and reach the node's state only on {@link commit}, so a call
 * that fails (a trap, an error result, a limit) leaves no trace, and a
 * retried or isolated record counts once.
 *
 * Staged writes count against the node's caps as they are made: the view
 * reserves in the store what its writes add over the committed state, and
 * gives the reservation back on commit or rollback.
 */
export class StagedKeyedState implements KeyedState {
  readonly #base: MemoryKeyedState;
  /** Staged writes by key; `null` marks a delete. */
  readonly #staged = new Map<string, Uint8Array | null>();
  /** Each staged key's entry size in the committed state when it was first staged (`undefined`: absent). */
  readonly #baseline = new Map<string, number | undefined>();
  /** What is reserved in the base now: each staged key's growth over its baseline, never less than 0. */
  #reservedBytes = 0;
  #reservedKeys = 0;

  constructor(base: MemoryKeyedState) {
    this.#base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const staged = this.#staged.get(mapKey(key));
    if (staged === null) return undefined;
    return staged === undefined ? this.#base.get(key) : staged.slice();
  }

  /** @throws WeirError `WEIR_LIMIT_STATE` when the write would take the node's state over a cap. */
  set(key: Uint8Array, value: Uint8Array): void {
    const k = mapKey(key);
    this.#stage(k, k.length + value.byteLength);
    this.#staged.set(k, value.slice());
  }

  delete(key: Uint8Array): void {
    const k = mapKey(key);
    this.#stage(k, undefined);
    this.#staged.set(k, null);
  }

  /** Keys in the node's state (staged writes not counted until committed). */
  get size(): number {
    return this.#base.size;
  }

  /** Applies the staged writes to the node's state. */
  commit(): void {
    this.#unreserve();
    this.#base.apply(this.#staged);
    this.#clear();
  }

  /** Drops the staged writes. */
  rollback(): void {
    this.#unreserve();
    this.#clear();
  }

  /**
   * Accounts for the entry under `k` becoming `bytes` long (`undefined`:
   * deleted), reserving any growth first. What a staged delete or shrink
   * frees is not credited before commit: parallel instances that stage a
   * delete of the same key would each count its bytes as freed, and their
   * commits would then add more than the caps allow.
   */
  #stage(k: string, bytes: number | undefined): void {
    if (!this.#baseline.has(k)) this.#baseline.set(k, this.#base.entryBytes(k));
    const baseline = this.#baseline.get(k);
    const staged = this.#staged.get(k);
    const before = staged === undefined ? baseline : staged === null ? undefined : k.length + staged.byteLength;
    const growth = (size: number | undefined) => Math.max(0, (size ?? 0) - (baseline ?? 0));
    const added = (size: number | undefined) => (size !== undefined && baseline === undefined ? 1 : 0);
    const wantBytes = this.#reservedBytes + growth(bytes) - growth(before);
    const wantKeys = this.#reservedKeys + added(bytes) - added(before);
    if (wantBytes > this.#reservedBytes || wantKeys > this.#reservedKeys) {
      this.#base.reserve(Math.max(0, wantBytes - this.#reservedBytes), Math.max(0, wantKeys - this.#reservedKeys));
    }
    this.#base.release(Math.max(0, this.#reservedBytes - wantBytes), Math.max(0, this.#reservedKeys - wantKeys));
    this.#reservedBytes = wantBytes;
    this.#reservedKeys = wantKeys;
  }

  #unreserve(): void {
    this.#base.release(this.#reservedBytes, this.#reservedKeys);
    this.#reservedBytes = 0;
    this.#reservedKeys = 0;
  }

  #clear(): void {
    this.#staged.clear();
    this.#baseline.clear();
  }
}
