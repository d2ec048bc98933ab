// Barriers, lane meetings and change records must take constant memory over
// any number of epochs: hundreds of thousands of epochs run in a child process
// with a small V8 heap (built dist/: run `npm run build:host`
// first). Anything kept per epoch (an alignment record, a waiter list, a
// seen-epoch set, a change record never handed over) ends in "heap out of
// memory" long before the last epoch.
import { describe, expect, it } from 'vitest';
import { distModule, runWithSmallHeap } from '../sandbox/small-heap-child.js';

const HEAP_MB = 16;
const EPOCHS = 300_000;

const script = `
import { BatchChannel } from ${JSON.stringify(distModule('topology/batch-channel.js'))};
import { LaneRendezvous } from ${JSON.stringify(distModule('topology/lane-rendezvous.js'))};
import { MemoryKeyedState } from ${JSON.stringify(distModule('state/keyed-state.js'))};
const EPOCHS = ${EPOCHS};
const batch = [];
// Two producers; the second skips every 7th epoch (an aborted checkpoint), which the next epoch supersedes.
const channel = new BatchChannel(4, 2);
const producer = async (skip) => {
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    await channel.push(batch);
    if (!(skip && epoch % 7 === 0)) await channel.pushBarrier(epoch);
  }
  channel.closeProducer();
};
let barriers = 0;
const consumer = async () => {
  for (let item = await channel.pull(); item; item = await channel.pull()) if (!Array.isArray(item)) barriers++;
};
const rendezvous = new LaneRendezvous(3);
let snapshots = 0;
const snapshot = async () => { snapshots++; };
const lane = async () => { for (let epoch = 1; epoch <= EPOCHS; epoch++) await rendezvous.arrive(epoch, snapshot); rendezvous.leave(); };
const state = new MemoryKeyedState(undefined, 'n', { trackChanges: true });
const churn = async () => {
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const key = new TextEncoder().encode('key-' + epoch);
    state.set(key, key);
    state.delete(key);
    if (epoch % 100 === 0) state.takeChanges();
    if (epoch % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
};
await Promise.all([producer(false), producer(true), consumer(), lane(), lane(), lane(), churn()]);
if (barriers < EPOCHS * 6 / 7 || snapshots !== EPOCHS) throw new Error('barriers ' + barriers + ', snapshots ' + snapshots);
console.log('ok');
`;

describe(`barriers over ${EPOCHS} epochs run in a ${HEAP_MB} MiB heap`, () => {
  it('channel alignment (with aborted epochs), lane meetings and change records keep nothing per epoch', async () => {
    const { code, stdout, stderr } = await runWithSmallHeap(script, HEAP_MB);
    expect(stderr, 'the run must not run out of heap').not.toContain('heap out of memory');
    expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: 'ok' });
  }, 120_000);
});
