import { describe, expect, it } from 'vitest';
import { WindowOperator } from '../../src/topology/window-operator.js';
import { decodeWindowSnapshot, encodeWindowSnapshot, redistributeWindows } from '../../src/topology/window-snapshot.js';
import type { WindowSnapshot } from '../../src/topology/window-snapshot.js';
import { keyLane } from '../../src/topology/partitioner.js';
import type { WindowConfig } from '../../src/config/pipeline-config.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { listing } from '../fixtures/listing-aggregator.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);


const at = (key: string | undefined, value: string, time: number) => textRecord(value, { ...(key === undefined ? {} : { key }), eventTime: BigInt(time) });
const config = (c: Partial<WindowConfig>): WindowConfig => ({ type: 'tumbling', sizeMs: 10, slideMs: 10, gapMs: 0, allowedLatenessMs: 0, lateOutput: 'late', ...c });
const values = (records: StreamRecord[]) => records.map((r) => text(r.value));
const through = (s: WindowSnapshot) => decodeWindowSnapshot(encodeWindowSnapshot(s));

describe('WindowOperator snapshot and restore', () => {
  for (const window of [config({}), config({ type: 'sliding', sizeMs: 10, slideMs: 5, allowedLatenessMs: 3 }), config({ type: 'session', gapMs: 5 })]) {
    it(`${window.type}: a restored operator carries on exactly as the one it was taken from`, () => {
      const before = [at('a', '1', 1), at('b', '2', 3), at(undefined, 'n', 4), at('', 'e', 5), at('a', '3', 12), at('b', '4', 14)];
      const after = [at('a', '5', 16), at('b', 'late', 2), at('c', '6', 18), at('a', '7', 31), at(undefined, 'm', 33)];
      const original = new WindowOperator(window, listing);
      const first = original.add(before);
      const restored = new WindowOperator(window, listing);
      restored.restore(through(original.snapshot()));
      expect(restored.snapshot()).toEqual(original.snapshot());
      const a = original.add(after);
      const b = restored.add(after);
      expect(values(b.emitted)).toEqual(values(a.emitted));
      expect(values(b.late)).toEqual(values(a.late));
      expect(values(restored.flush())).toEqual(values(original.flush()));
      // Sanity: the run produced output on both sides of the snapshot.
      expect(first.emitted.length + a.emitted.length).toBeGreaterThan(0);
    });
  }

  it('keeps the watermark: a record late before the snapshot is late after the restore', () => {
    const original = new WindowOperator(config({}), listing);
    original.add([at('k', 'a', 25)]);
    const restored = new WindowOperator(config({}), listing);
    restored.restore(through(original.snapshot()));
    expect(values(restored.add([at('k', 'old', 3)]).late)).toEqual(['old']);
  });

  it('keeps a keyless window apart from one whose key spells the old "no key" marker', () => {
    const op = new WindowOperator(config({}), listing);
    op.add([at(undefined, 'x', 1), at('\u0000none', 'y', 2)]);
    expect(op.snapshot().windows.map((w) => text(w.accumulator))).toEqual(['x', 'y']);
  });

  it('restores only a fresh operator', () => {
    const used = new WindowOperator(config({}), listing);
    used.add([at('k', 'a', 1)]);
    expect(() => used.restore({ watermark: 0, windows: [] })).toThrow(/before any record/);
  });
});

describe('window snapshot encoding', () => {
  it('round-trips -Infinity, an absent key apart from an empty one, and binary bytes', () => {
    const empty: WindowSnapshot = { watermark: Number.NEGATIVE_INFINITY, windows: [] };
    expect(through(empty)).toEqual(empty);
    const snapshot: WindowSnapshot = {
      watermark: 1_733_000_000_123,
      windows: [
        { start: 0, end: 10, accumulator: new Uint8Array([0, 255]) },
        { key: new Uint8Array(0), start: -20, end: 1_733_000_000_000, accumulator: new Uint8Array(0) },
        { key: new Uint8Array([1, 2, 3]), start: 5, end: 15, accumulator: bytes('acc') },
      ],
    };
    const back = through(snapshot);
    expect(back).toEqual(snapshot);
    expect('key' in back.windows[0]!).toBe(false);
    expect(back.windows[1]!.key).toEqual(new Uint8Array(0));
  });

  it('gives decoded bytes buffers of their own', () => {
    const blob = encodeWindowSnapshot({ watermark: 1, windows: [{ key: bytes('k'), start: 0, end: 1, accumulator: bytes('v') }] });
    const decoded = decodeWindowSnapshot(blob);
    blob.fill(0);
    expect(text(decoded.windows[0]!.accumulator)).toBe('v');
    expect(text(decoded.windows[0]!.key!)).toBe('k');
  });

  it('refuses a truncated blob, trailing bytes and an unknown version', () => {
    const blob = encodeWindowSnapshot({ watermark: 1, windows: [{ key: bytes('k'), start: 0, end: 1, accumulator: bytes('v') }] });
    expect(() => decodeWindowSnapshot(blob.subarray(0, blob.length - 1))).toThrow(/truncated/);
    expect(() => decodeWindowSnapshot(new Uint8Array([...blob, 0]))).toThrow(/after its 1 windows/);
    expect(() => decodeWindowSnapshot(new Uint8Array([9, ...blob.subarray(1)]))).toThrow(/format 9/);
  });
});

describe('redistributeWindows', () => {
  const merge = listing.merge;
  const w = (key: string | undefined, start: number, acc: string) => ({ ...(key === undefined ? {} : { key: bytes(key) }), start, end: start + 10, accumulator: bytes(acc) });
  const show = (s: WindowSnapshot) => ({ watermark: s.watermark, windows: s.windows.map((x) => `${x.key ? text(x.key) : '-'}@${x.start}:${text(x.accumulator)}`) });

  it('keeps key-partitioned and broadcast snapshots as they are when the lane count is the same', () => {
    const snapshots = [{ watermark: 5, windows: [w('a', 0, '1')] }, { watermark: 7, windows: [w('b', 0, '2')] }];
    expect(redistributeWindows(snapshots, 2, 'key', merge)).toEqual(snapshots);
    expect(redistributeWindows(snapshots, 2, 'broadcast', merge)).toEqual(snapshots);
  });

  it('moves each window to its key lane (no key: lane 0), combines equal windows, and takes the lowest watermark', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const snapshots = [
      { watermark: 30, windows: [...keys.map((k) => w(k, 0, `${k}1`)), w(undefined, 0, 'x')] },
      { watermark: 20, windows: [w('a', 0, 'a2'), w('a', 10, 'a3'), w(undefined, 0, 'y')] },
    ];
    const copy = structuredClone(snapshots);
    const out = redistributeWindows(snapshots, 3, 'key', merge);
    expect(snapshots).toEqual(copy);
    expect(out).toHaveLength(3);
    for (const [lane, snapshot] of out.entries()) {
      expect(snapshot.watermark).toBe(20);
      for (const window of snapshot.windows) expect(window.key === undefined ? 0 : keyLane(window.key, 3)).toBe(lane);
    }
    const all = out.flatMap((s) => show(s).windows).sort();
    expect(all).toEqual(['-@0:x,y', 'a@0:a1,a2', 'a@10:a3', 'b@0:b1', 'c@0:c1', 'd@0:d1', 'e@0:e1', 'f@0:f1']);
  });

  it('combines the windows round-robin lanes each held part of, also when the lane count is the same', () => {
    const snapshots = [{ watermark: 9, windows: [w('a', 0, '1')] }, { watermark: 4, windows: [w('a', 0, '2')] }];
    const out = redistributeWindows(snapshots, 2, 'round-robin', merge).map(show);
    expect(out.flatMap((s) => s.windows)).toEqual(['a@0:1,2']);
    expect(out.map((s) => s.watermark)).toEqual([4, 4]);
  });

  it('gives every new lane the windows of a broadcast node (each old lane saw every record)', () => {
    const snapshots = [{ watermark: 9, windows: [w('a', 0, '1,2')] }, { watermark: 9, windows: [w('a', 0, '1,2')] }];
    expect(redistributeWindows(snapshots, 3, 'broadcast', merge).map(show)).toEqual(Array(3).fill({ watermark: 9, windows: ['a@0:1,2'] }));
  });

  it('gives empty lanes at -Infinity for no snapshots, and refuses a bad lane count', () => {
    expect(redistributeWindows([], 2, 'key', merge)).toEqual([{ watermark: Number.NEGATIVE_INFINITY, windows: [] }, { watermark: Number.NEGATIVE_INFINITY, windows: [] }]);
    expect(() => redistributeWindows([], 0, 'key', merge)).toThrow(/positive integer/);
  });

  it('a key-partitioned node restored on 3 lanes from 2 emits what one operator run straight through emits', () => {
    const window = config({ sizeMs: 10, slideMs: 10 });
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const input = Array.from({ length: 240 }, (_, i) => at(keys[(i * 7) % keys.length], `v${i}`, Math.floor(i / 4)));
    const [head, tail] = [input.slice(0, 150), input.slice(150)];
    const reference = new WindowOperator(window, listing);
    const expected = [...values(reference.add(input).emitted), ...values(reference.flush())];

    const feed = (ops: WindowOperator[], records: StreamRecord[]) =>
      ops.flatMap((op, lane) => values(op.add(records.filter((r) => keyLane(r.key!, ops.length) === lane)).emitted));
    const old = [new WindowOperator(window, listing), new WindowOperator(window, listing)];
    const out = feed(old, head);
    const moved = redistributeWindows(old.map((op) => through(op.snapshot())), 3, 'key', merge);
    const next = moved.map((snapshot) => {
      const op = new WindowOperator(window, listing);
      op.restore(through(snapshot));
      return op;
    });
    out.push(...feed(next, tail), ...next.flatMap((op) => values(op.flush())));
    expect(out.sort()).toEqual(expected.sort());
  });
});
