/**
 * Event-time windows for an aggregating processor (a node with `window`).
 * The operator assigns each record to its windows per key (tumbling: one,
 * sliding: every window that covers it, session: one that grows and merges
 * with the key's neighbouring sessions), keeps one accumulator per key and
 * window (the plugin's opaque bytes), and closes windows as the watermark
 * passes them:
 *
 * - the watermark is the highest event time seen by this instance;
 * - a window closes once `watermark >= end + allowedLatenessMs`, and the
 *   plugin's `emit` turns its accumulator into output records;
 * - a record whose windows have all closed is late: it goes to the node's
 *   late output (header `weir-output`) untouched;
 * - at the end of the input every open window closes.
 *
 * Records without an event time take the wall clock. Windows close in order
 * of end, then start, then the order their keys were first seen.
 */
import type { StreamRecord } from '../records/record.js';
import type { AggregatorInstance } from '../contract/plugin.js';
import type { WindowConfig } from '../config/pipeline-config.js';
import { OUTPUT_HEADER } from './node-outputs.js';
import type { WindowSnapshot } from './window-snapshot.js';

interface OpenWindow {
  key: Uint8Array | undefined;
  start: number;
  end: number;
  accumulator: Uint8Array;
}

/** What one batch produced. */
export interface WindowOutput {
  /** Records emitted by windows that closed. */
  emitted: StreamRecord[];
  /** Late records, tagged for the late output. */
  late: StreamRecord[];
}

const encoder = new TextEncoder();
/** A map id per key: `-` for no key, `k` and the key's bytes as latin1 otherwise (so no key can pass for "none"). */
const keyId = (key: Uint8Array | undefined) => (key === undefined ? '-' : `k${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')}`);

/** The windows of one aggregator instance. */
export class WindowOperator {
  readonly #config: WindowConfig;
  #plugin: AggregatorInstance;
  /** Open windows by key (in first-seen order of keys); sessions kept sorted by start. */
  readonly #open = new Map<string, OpenWindow[]>();
  #watermark = Number.NEGATIVE_INFINITY;

  constructor(config: WindowConfig, plugin: AggregatorInstance) {
    this.#config = config;
    this.#plugin = plugin;
  }

  /**
   * Hands the open windows to another instance (a reloaded plugin) from the
   * next batch: accumulators carry over as they are, like keyed state, so a
   * new build must read the accumulators of the build it replaces.
   */
  usePlugin(plugin: AggregatorInstance): void {
    this.#plugin = plugin;
  }

  /**
   * The open windows and the watermark, for a checkpoint, in this
   * operator's order (keys in first-seen order, each key's windows in its
   * order). Shares the accumulators, which are replaced on each record and
   * never changed in place.
   */
  snapshot(): WindowSnapshot {
    const windows: WindowSnapshot['windows'] = [];
    for (const open of this.#open.values()) {
      for (const w of open) windows.push(w.key === undefined ? { start: w.start, end: w.end, accumulator: w.accumulator } : { key: w.key, start: w.start, end: w.end, accumulator: w.accumulator });
    }
    return { watermark: this.#watermark, windows };
  }

  /**
   * Reopens the windows of a checkpoint on a fresh operator, before any
   * record is added: the watermark and windows continue as they were.
   * @throws Error when this operator has already seen records.
   */
  restore(snapshot: WindowSnapshot): void {
    if (this.#open.size > 0 || this.#watermark !== Number.NEGATIVE_INFINITY) {
      throw new Error('a window operator can be restored only before any record is added');
    }
    this.#watermark = snapshot.watermark;
    for (const w of snapshot.windows) this.#windowsOf(w.key).push({ key: w.key, start: w.start, end: w.end, accumulator: w.accumulator });
  }

  /** Windows closed up to here (exclusive of later ends). */
  get #closedUpTo(): number {
    return this.#watermark - this.#config.allowedLatenessMs;
  }

  /** Accumulates a batch, then closes what the watermark passed. */
  add(batch: readonly StreamRecord[]): WindowOutput {
    const late: StreamRecord[] = [];
    for (const record of batch) {
      const time = record.eventTime === undefined ? Date.now() : Number(record.eventTime);
      if (this.#isLate(time)) {
        late.push({ ...record, headers: [...record.headers, { name: OUTPUT_HEADER, value: encoder.encode(this.#config.lateOutput) }] });
        continue;
      }
      if (this.#config.type === 'session') this.#addToSession(record, time);
      else for (const start of this.#windowStarts(time)) this.#addToWindow(record, start, start + this.#config.sizeMs);
      if (time > this.#watermark) this.#watermark = time;
    }
    return { emitted: this.#close(this.#closedUpTo), late };
  }

  /** Closes every open window (end of input). */
  flush(): StreamRecord[] {
    return this.#close(Number.POSITIVE_INFINITY);
  }

  #isLate(time: number): boolean {
    const closed = this.#closedUpTo;
    if (this.#config.type === 'session') return time + this.#config.gapMs <= closed;
    const starts = this.#windowStarts(time);
    return starts.length === 0 || starts.at(-1)! + this.#config.sizeMs <= closed;
  }

  /** Starts of the tumbling or sliding windows covering `time`, earliest first. */
  #windowStarts(time: number): number[] {
    const { sizeMs, slideMs } = this.#config;
    const last = Math.floor(time / slideMs) * slideMs;
    const starts: number[] = [];
    for (let start = last; start > time - sizeMs; start -= slideMs) starts.unshift(start);
    return starts;
  }

  #windowsOf(key: Uint8Array | undefined): OpenWindow[] {
    const id = keyId(key);
    let windows = this.#open.get(id);
    if (!windows) this.#open.set(id, (windows = []));
    return windows;
  }

  #addToWindow(record: StreamRecord, start: number, end: number): void {
    const windows = this.#windowsOf(record.key);
    const window = windows.find((w) => w.start === start);
    if (window) window.accumulator = this.#plugin.accumulate(window.accumulator, record);
    else windows.push({ key: ownKey(record.key), start, end, accumulator: this.#plugin.accumulate(undefined, record) });
  }

  #addToSession(record: StreamRecord, time: number): void {
    const windows = this.#windowsOf(record.key);
    let start = time;
    let end = time + this.#config.gapMs;
    let accumulator: Uint8Array | undefined;
    // Every open session of the key that touches [time, time + gap) grows into one.
    for (let i = 0; i < windows.length; ) {
      const w = windows[i]!;
      if (w.start <= end && start <= w.end) {
        start = Math.min(start, w.start);
        end = Math.max(end, w.end);
        accumulator = accumulator === undefined ? w.accumulator : this.#plugin.merge(accumulator, w.accumulator);
        windows.splice(i, 1);
      } else {
        i++;
      }
    }
    const merged = { key: ownKey(record.key), start, end, accumulator: this.#plugin.accumulate(accumulator, record) };
    const at = windows.findIndex((w) => w.start > start);
    windows.splice(at < 0 ? windows.length : at, 0, merged);
  }

  /** Emits and forgets every window ending at or before `limit`. */
  #close(limit: number): StreamRecord[] {
    const closing: Array<{ window: OpenWindow; order: number }> = [];
    let order = 0;
    for (const [id, windows] of this.#open) {
      const keep = windows.filter((w) => {
        if (w.end > limit) return true;
        closing.push({ window: w, order: order });
        return false;
      });
      order++;
      if (keep.length === 0) this.#open.delete(id);
      else this.#open.set(id, keep);
    }
    closing.sort((a, b) => a.window.end - b.window.end || a.window.start - b.window.start || a.order - b.order);
    return closing.flatMap(({ window }) => this.#plugin.emit(window.key, { start: BigInt(window.start), end: BigInt(window.end) }, window.accumulator));
  }
}

/**
 * A window's own copy of its key: a record's key is often a view into its
 * whole batch's buffer (packed batches), which an open window would otherwise
 * keep alive for as long as the window is open.
 */
function ownKey(key: Uint8Array | undefined): Uint8Array | undefined {
  return key === undefined ? undefined : key.slice();
}
