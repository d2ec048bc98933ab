import { describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BatchChannel } from '../../src/topology/batch-channel.js';
import { BatchFormer } from '../../src/topology/batch-former.js';
import { NodeOutputs } from '../../src/topology/node-outputs.js';
import { LaneRendezvous } from '../../src/topology/lane-rendezvous.js';
import { isBarrier } from '../../src/topology/barrier.js';
import type { ChannelItem } from '../../src/topology/barrier.js';
import { textRecord } from '../../src/records/record.js';
import { recordsOf } from '../../src/records/batch.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const records = (...values: string[]) => values.map((v) => textRecord(v));
/** A readable trace of items: records by value, barriers as `|n`. */
const show = (item: ChannelItem | undefined) => (item === undefined ? 'end' : isBarrier(item) ? `|${item.epoch}` : recordsOf(item).map((r) => text(r.value)).join(','));

/** Lets `turns` event-loop turns pass (no clock): long enough for anything not blocked to settle. */
async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

/** Resolves to 'pending' if `promise` has not settled after some turns. */
async function settled<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, turns().then(() => 'pending' as const)]);
}

async function drain(channel: BatchChannel): Promise<string[]> {
  const out: string[] = [];
  for (let item = await channel.pull(); item; item = await channel.pull()) out.push(show(item));
  return out;
}

describe('BatchChannel barriers', () => {
  it('aligns a barrier across producers: what the fast producer sends after it comes out after it', async () => {
    const channel = new BatchChannel(8, 2);
    const fast = (async () => {
      await channel.push(records('f1'));
      expect(await channel.pushBarrier(1)).toBe(true);
      await channel.push(records('f2'));
      channel.closeProducer();
    })();
    await turns();
    // The fast producer is held at the barrier: nothing after it is queued yet.
    expect(channel.depth).toBe(1);
    await channel.push(records('s1'));
    await channel.pushBarrier(1);
    await channel.push(records('s2'));
    channel.closeProducer();
    await fast;
    const out = await drain(channel);
    expect(out.slice(0, 3).sort()).toEqual(['f1', 's1', '|1'].sort());
    expect(out.indexOf('|1')).toBe(2);
    expect(out.slice(3).sort()).toEqual(['f2', 's2']);
  });

  it('counts a closed producer as arrived, also when it closes while the other waits', async () => {
    const channel = new BatchChannel(8, 3);
    channel.closeProducer();
    const first = channel.pushBarrier(4);
    expect(await settled(first)).toBe('pending');
    channel.closeProducer();
    expect(await settled(first)).toBe(true);
    channel.closeProducer();
    expect(await drain(channel)).toEqual(['|4']);
  });

  it('releases a producer waiting at a barrier when the channel is cancelled, and refuses barriers after', async () => {
    const channel = new BatchChannel(8, 2);
    const waiting = channel.pushBarrier(1);
    expect(await settled(waiting)).toBe('pending');
    channel.cancel();
    expect(await waiting).toBe(false);
    expect(await channel.pushBarrier(2)).toBe(false);
  });

  it('drops a straggler of a lower epoch and lets a higher epoch supersede the one aligning', async () => {
    const channel = new BatchChannel(8, 2);
    const aborted = channel.pushBarrier(1);
    const next = channel.pushBarrier(2);
    // Epoch 1 is abandoned: its producer is released without the barrier being queued.
    expect(await settled(aborted)).toBe(true);
    expect(await channel.pushBarrier(1)).toBe(true);
    expect(await settled(next)).toBe('pending');
    await channel.pushBarrier(2);
    await next;
    // Epoch 2 is done: a repeat of it is dropped too.
    expect(await channel.pushBarrier(2)).toBe(true);
    channel.closeProducer();
    channel.closeProducer();
    expect(await drain(channel)).toEqual(['|2']);
  });

  it('queues a barrier into a full channel without counting it against capacity', async () => {
    const channel = new BatchChannel(1, 1);
    await channel.push(records('a'));
    expect(await settled(channel.pushBarrier(1))).toBe(true);
    expect(channel.depth).toBe(1);
    // The channel is still full: the next batch waits for the consumer.
    const blocked = channel.push(records('b'));
    expect(await settled(blocked)).toBe('pending');
    expect(show(await channel.pull())).toBe('a');
    expect(await settled(blocked)).toBe(true);
    channel.closeProducer();
    expect(await drain(channel)).toEqual(['|1', 'b']);
    expect(channel.highWater).toBe(1);
  });
});

describe('BatchFormer barriers', () => {
  const config = (maxRecords: number, lingerMs: number) => ({ maxRecords, maxBytes: 1 << 20, lingerMs });

  it('hands out the records before a barrier (as batches), then the barrier, never coalescing across it', async () => {
    const channel = new BatchChannel(16, 1);
    await channel.push(records('a', 'b', 'c'));
    await channel.pushBarrier(1);
    await channel.push(records('d'));
    channel.closeProducer();
    const former = new BatchFormer(channel, config(2, 0));
    const out: string[] = [];
    for (let item = await former.next(); item; item = await former.next()) out.push(show(item));
    expect(out).toEqual(['a,b', 'c', '|1', 'd']);
  });

  it('ends its linger wait at a barrier', async () => {
    const channel = new BatchChannel(16, 1);
    await channel.push(records('a'));
    // A linger of an hour: if the former waited it out across the barrier the test would time out.
    const former = new BatchFormer(channel, config(10, 3_600_000));
    const pending = former.next();
    await channel.push(records('b'));
    await channel.pushBarrier(7);
    await channel.push(records('c'));
    expect(show(await pending)).toBe('a,b');
    expect(show(await former.next())).toBe('|7');
    channel.closeProducer();
    expect(show(await former.next())).toBe('c');
    expect(await former.next()).toBeUndefined();
  });

  it('returns a barrier at the head of the input by itself', async () => {
    const channel = new BatchChannel(16, 1);
    await channel.pushBarrier(1);
    await channel.push(records('a'));
    const former = new BatchFormer(channel, config(10, 0));
    expect(show(await former.next())).toBe('|1');
    expect(show(await former.next())).toBe('a');
  });
});

describe('NodeOutputs.emitBarrier', () => {
  it('pushes to every channel at once, so two nodes feeding the same two channels in opposite order do not deadlock', async () => {
    const x = new BatchChannel(8, 2);
    const y = new BatchChannel(8, 2);
    const n = new NodeOutputs([{ output: '', channel: x }, { output: '', channel: y }]);
    const m = new NodeOutputs([{ output: '', channel: y }, { output: '', channel: x }]);
    const both = Promise.all([n.emitBarrier(1), m.emitBarrier(1)]);
    expect(await settled(both)).not.toBe('pending');
    n.close();
    m.close();
    expect(await drain(x)).toEqual(['|1']);
    expect(await drain(y)).toEqual(['|1']);
  });

  it('passes a diamond (x feeds z directly and through y) whichever route comes first', async () => {
    for (const order of ['z-first', 'y-first']) {
      const toY = new BatchChannel(8, 1);
      const toZ = new BatchChannel(8, 2);
      const routes = [{ output: '', channel: toZ }, { output: '', channel: toY }];
      const x = new NodeOutputs(order === 'z-first' ? routes : routes.reverse());
      const y = new NodeOutputs([{ output: '', channel: toZ }]);
      // y forwards what it reads, barriers included, as a node would.
      const forward = (async () => {
        for (let item = await toY.pull(); item; item = await toY.pull()) {
          if (isBarrier(item)) await y.emitBarrier(item.epoch);
          else await y.emit(item);
        }
        y.close();
      })();
      await x.emit(records('a'));
      expect(await settled(x.emitBarrier(1))).toBeUndefined();
      await x.emit(records('b'));
      x.close();
      await forward;
      const out = await drain(toZ);
      expect(out.indexOf('|1')).toBe(2);
      expect(out.slice(3)).toEqual(['b', 'b']);
    }
  });

  it('waits for the other producers of a channel', async () => {
    const shared = new BatchChannel(8, 2);
    const own = new BatchChannel(8, 1);
    const n = new NodeOutputs([{ output: '', channel: own }, { output: '', channel: shared }]);
    const emitted = n.emitBarrier(3);
    expect(await settled(emitted)).toBe('pending');
    shared.closeProducer();
    await emitted;
    expect(own.tryPull()).toEqual({ kind: 'barrier', epoch: 3 });
  });
});

describe('LaneRendezvous', () => {
  it('holds every lane until the last arrives, runs the snapshot once, and tells the last lane', async () => {
    const rendezvous = new LaneRendezvous(3);
    let snapshots = 0;
    const snapshot = async () => {
      snapshots++;
    };
    const a = rendezvous.arrive(1, snapshot);
    const b = rendezvous.arrive(1, snapshot);
    expect(await settled(Promise.race([a, b]))).toBe('pending');
    expect(snapshots).toBe(0);
    const c = rendezvous.arrive(1, snapshot);
    expect(await Promise.all([a, b, c])).toEqual([false, false, true]);
    expect(snapshots).toBe(1);
    // The next epoch gathers afresh.
    const again = [rendezvous.arrive(2, snapshot), rendezvous.arrive(2, snapshot), rendezvous.arrive(2, snapshot)];
    expect(await Promise.all(again)).toEqual([false, false, true]);
    expect(snapshots).toBe(2);
  });

  it('does not resume the lanes before the snapshot has finished', async () => {
    const rendezvous = new LaneRendezvous(2);
    let finish!: () => void;
    const snapshot = () => new Promise<void>((resolve) => (finish = resolve));
    const lanes = Promise.all([rendezvous.arrive(1, snapshot), rendezvous.arrive(1, snapshot)]);
    expect(await settled(lanes)).toBe('pending');
    finish();
    expect(await lanes).toEqual([false, true]);
  });

  it('counts a lane that left as arrived, also when it leaves while others wait', async () => {
    const rendezvous = new LaneRendezvous(3);
    rendezvous.leave();
    let snapshots = 0;
    const snapshot = async () => {
      snapshots++;
    };
    const a = rendezvous.arrive(1, snapshot);
    expect(await settled(a)).toBe('pending');
    rendezvous.leave();
    expect(await a).toBe(true);
    expect(snapshots).toBe(1);
    expect(await rendezvous.arrive(2, snapshot)).toBe(true);
  });

  it('rejects every waiting lane when the snapshot fails, and close releases waiters', async () => {
    const failing = new LaneRendezvous(2);
    const boom = () => Promise.reject(new Error('disk full'));
    const lanes = [failing.arrive(1, boom), failing.arrive(1, boom)];
    for (const lane of lanes) await expect(lane).rejects.toThrow('disk full');

    const closing = new LaneRendezvous(2);
    const waiting = closing.arrive(1, async () => {});
    expect(await settled(waiting)).toBe('pending');
    closing.close();
    expect(await waiting).toBe(false);
    expect(await closing.arrive(2, async () => {})).toBe(false);
  });

  it('drops a straggler of a lower epoch and lets a higher epoch supersede', async () => {
    const rendezvous = new LaneRendezvous(2);
    const ran: number[] = [];
    const snap = (n: number) => async () => void ran.push(n);
    const aborted = rendezvous.arrive(1, snap(1));
    const next = rendezvous.arrive(2, snap(2));
    expect(await aborted).toBe(false);
    expect(await rendezvous.arrive(1, snap(1))).toBe(false);
    const last = rendezvous.arrive(2, snap(2));
    expect(await Promise.all([next, last])).toEqual([false, true]);
    expect(ran).toEqual([2]);
  });
});
