/**
 * The open windows of one aggregator instance as a checkpoint stores them:
 * the instance's watermark and, per window, its key, bounds and the plugin's
 * accumulator bytes. {@link encodeWindowSnapshot} turns a snapshot into one
 * compact little-endian blob:
 *
 *     u8 version (1) | f64 watermark | u32 count | count x window
 *     window = u8 hasKey | [u32 keyLength | key] | f64 start | f64 end | u32 accLength | accumulator
 *
 * A float64 carries `-Infinity` (no record seen yet) and every millisecond
 * time exactly; `hasKey` keeps a window without a key apart from one whose
 * key is empty. {@link redistributeWindows} moves windows to a different
 * number of instances when a node's `parallelism` changed between runs.
 */
import { keyLane } from './partitioner.js';
import type { PartitionMode } from './partitioner.js';

/** One open window. */
export interface WindowSnapshotEntry {
  /** The records' key; absent for records without one (not the same as an empty key). */
  key?: Uint8Array;
  start: number;
  end: number;
  accumulator: Uint8Array;
}

/** The open windows of one instance, in the operator's order, and its watermark. */
export interface WindowSnapshot {
  /** The highest event time seen; `-Infinity` before any record. */
  watermark: number;
  windows: WindowSnapshotEntry[];
}

const VERSION = 1;

/** The snapshot as one blob (the key and accumulator bytes are copied in). */
export function encodeWindowSnapshot(snapshot: WindowSnapshot): Uint8Array {
  let size = 1 + 8 + 4;
  for (const w of snapshot.windows) size += 1 + (w.key === undefined ? 0 : 4 + w.key.byteLength) + 8 + 8 + 4 + w.accumulator.byteLength;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let at = 0;
  view.setUint8(at, VERSION);
  view.setFloat64((at += 1), snapshot.watermark, true);
  view.setUint32((at += 8), snapshot.windows.length, true);
  at += 4;
  const put = (data: Uint8Array) => {
    view.setUint32(at, data.byteLength, true);
    bytes.set(data, at + 4);
    at += 4 + data.byteLength;
  };
  for (const w of snapshot.windows) {
    view.setUint8(at++, w.key === undefined ? 0 : 1);
    if (w.key !== undefined) put(w.key);
    view.setFloat64(at, w.start, true);
    view.setFloat64(at + 8, w.end, true);
    at += 16;
    put(w.accumulator);
  }
  return bytes;
}

/**
 * The snapshot a blob from {@link encodeWindowSnapshot} holds; keys and
 * accumulators get buffers of their own (the blob is not kept alive).
 * @throws RangeError when the blob is truncated, too long or of another version.
 */
export function decodeWindowSnapshot(bytes: Uint8Array): WindowSnapshot {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.byteLength) throw new RangeError(`window snapshot is corrupt: truncated at byte ${at} of ${bytes.byteLength}`);
  };
  const take = () => {
    need(4);
    const length = view.getUint32(at, true);
    need(4 + length);
    const data = bytes.slice(at + 4, at + 4 + length);
    at += 4 + length;
    return data;
  };
  need(13);
  const version = view.getUint8(0);
  if (version !== VERSION) throw new RangeError(`window snapshot is corrupt or from another version: format ${version}, expected ${VERSION}`);
  const watermark = view.getFloat64(1, true);
  const count = view.getUint32(9, true);
  at = 13;
  const windows: WindowSnapshotEntry[] = [];
  for (let i = 0; i < count; i++) {
    need(1);
    const hasKey = view.getUint8(at++);
    const key = hasKey ? take() : undefined;
    need(16);
    const start = view.getFloat64(at, true);
    const end = view.getFloat64(at + 8, true);
    at += 16;
    const accumulator = take();
    windows.push(key === undefined ? { start, end, accumulator } : { key, start, end, accumulator });
  }
  if (at !== bytes.byteLength) throw new RangeError(`window snapshot is corrupt: ${bytes.byteLength - at} bytes after its ${count} windows`);
  return { watermark, windows };
}

/**
 * The windows of a node's old instances (`snapshots`, one per old lane)
 * spread over `lanes` new ones, for a restore after `parallelism` changed:
 *
 * - the same number of lanes under `key` or `broadcast`: unchanged (each
 *   lane keeps what it had; under `broadcast` every lane saw every record);
 * - `broadcast` otherwise: every new lane gets the first old lane's windows;
 * - `key` and `round-robin` otherwise: each window goes to the lane its key
 *   hashes to (`keyLane`; no key: lane 0), and windows of the same key and
 *   bounds from different old lanes become one, their accumulators combined
 *   with `merge` (the plugin's merge) in old-lane order.
 *
 * Every new lane's watermark is the lowest old one, so nothing closes
 * earlier than it would have. Session windows of one key from different
 * old lanes that overlap but differ in bounds are kept apart (as the old
 * lanes had them). Pure: the input is not changed.
 */
export function redistributeWindows(
  snapshots: readonly WindowSnapshot[],
  lanes: number,
  partition: PartitionMode,
  merge: (a: Uint8Array, b: Uint8Array) => Uint8Array,
): WindowSnapshot[] {
  if (!Number.isInteger(lanes) || lanes < 1) throw new RangeError(`lanes must be a positive integer, got ${lanes}`);
  if (snapshots.length === lanes && partition !== 'round-robin') return [...snapshots];
  const watermark = snapshots.reduce((low, s) => Math.min(low, s.watermark), Number.POSITIVE_INFINITY);
  const start = snapshots.length === 0 ? Number.NEGATIVE_INFINITY : watermark;
  if (partition === 'broadcast') return Array.from({ length: lanes }, () => ({ watermark: start, windows: [...(snapshots[0]?.windows ?? [])] }));
  const out = Array.from({ length: lanes }, () => ({ watermark: start, windows: [] as WindowSnapshotEntry[] }));
  const positions = Array.from({ length: lanes }, () => new Map<string, number>());
  for (const snapshot of snapshots) {
    for (const window of snapshot.windows) {
      const lane = window.key === undefined ? 0 : keyLane(window.key, lanes);
      const id = `${window.key === undefined ? '-' : `k${Buffer.from(window.key.buffer, window.key.byteOffset, window.key.byteLength).toString('latin1')}`}|${window.start}|${window.end}`;
      const windows = out[lane]!.windows;
      const at = positions[lane]!.get(id);
      if (at === undefined) {
        positions[lane]!.set(id, windows.length);
        windows.push(window);
      } else {
        windows[at] = { ...windows[at]!, accumulator: merge(windows[at]!.accumulator, window.accumulator) };
      }
    }
  }
  return out;
}
