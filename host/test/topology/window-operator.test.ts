import { describe, expect, it } from 'vitest';
import { WindowOperator } from '../../src/topology/window-operator.js';
import type { WindowConfig } from '../../src/config/pipeline-config.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { listing } from '../fixtures/listing-aggregator.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);


const at = (key: string, value: string, time: number) => textRecord(value, { key, eventTime: BigInt(time) });
const config = (c: Partial<WindowConfig>): WindowConfig => ({ type: 'tumbling', sizeMs: 10, slideMs: 10, gapMs: 0, allowedLatenessMs: 0, lateOutput: 'late', ...c });
const values = (records: StreamRecord[]) => records.map((r) => text(r.value));

describe('WindowOperator', () => {
  it('tumbling: closes a window when the watermark passes its end, in order of end, then start, then key', () => {
    const op = new WindowOperator(config({}), listing);
    expect(values(op.add([at('a', '1', 1), at('b', '2', 3), at('a', '3', 9)]).emitted)).toEqual([]);
    expect(values(op.add([at('b', '4', 12)]).emitted)).toEqual(['a@0-10:1,3', 'b@0-10:2']);
    expect(values(op.flush())).toEqual(['b@10-20:4']);
  });

  it.each(['tumbling', 'session'] as const)('%s: an open window keeps its own copy of the key, not the buffer the record came in', (type) => {
    // A key that is a view into a large buffer (a record of a packed batch).
    const shared = new Uint8Array(1 << 20);
    shared.set(new TextEncoder().encode('k'));
    const record: StreamRecord = { key: shared.subarray(0, 1), value: new TextEncoder().encode('v'), headers: [], eventTime: 1n };
    const keys: Array<Uint8Array | undefined> = [];
    const op = new WindowOperator(config({ type, gapMs: 5 }), { ...listing, emit: (key, window, acc) => (keys.push(key), listing.emit(key, window, acc)) });
    op.add([record, { ...record, eventTime: 2n }]);
    op.flush();
    expect(keys.map((k) => k && text(k))).toEqual(['k']);
    expect(keys[0]!.buffer.byteLength).toBeLessThan(1024);
  });

  it('sliding: a record belongs to every window that covers it', () => {
    const op = new WindowOperator(config({ type: 'sliding', sizeMs: 10, slideMs: 5 }), listing);
    op.add([at('k', 'x', 7)]);
    expect(values(op.flush())).toEqual(['k@0-10:x', 'k@5-15:x']);
  });

  it('sends records whose window already closed to the late output, unless allowed lateness keeps it open', () => {
    const strict = new WindowOperator(config({}), listing);
    const out = strict.add([at('k', 'a', 1), at('k', 'b', 15), at('k', 'late', 4)]);
    expect(values(out.emitted)).toEqual(['k@0-10:a']);
    expect(out.late.map((r) => [text(r.value), r.headers.map((h) => `${h.name}=${text(h.value)}`)])).toEqual([['late', ['weir-output=late']]]);

    const lenient = new WindowOperator(config({ allowedLatenessMs: 10 }), listing);
    const kept = lenient.add([at('k', 'a', 1), at('k', 'b', 15), at('k', 'late', 4)]);
    expect(kept.late).toEqual([]);
    expect(values(lenient.add([at('k', 'c', 21)]).emitted)).toEqual(['k@0-10:a,late']);
  });

  it('session: grows a session per key and merges sessions a record bridges', () => {
    const op = new WindowOperator(config({ type: 'session', gapMs: 5, allowedLatenessMs: 100 }), listing);
    op.add([at('u', 'a', 0), at('u', 'c', 8), at('v', 'x', 1)]);
    // "b" at 4 bridges [0,5) and [8,13) into one session.
    op.add([at('u', 'b', 4)]);
    expect(values(op.flush())).toEqual(['v@1-6:x', 'u@0-13:a,c,b']);
  });
});
