import { describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BatchChannel } from '../../src/topology/batch-channel.js';
import { textRecord } from '../../src/records/record.js';

const batch = (n: number) => Array.from({ length: n }, (_, i) => textRecord(`r${i}`));

describe('BatchChannel', () => {
  it('blocks producers at capacity and never holds more than capacity', async () => {
    const channel = new BatchChannel(2, 1);
    let pushed = 0;
    const producer = (async () => {
      for (let i = 0; i < 10; i++) {
        await channel.push(batch(1));
        pushed++;
        expect(channel.depth).toBeLessThanOrEqual(2);
      }
      channel.closeProducer();
    })();
    // The producer fills the channel, then waits: however many turns pass, it pushes no third batch.
    while (pushed < 2) await nextTurn();
    for (let i = 0; i < 20; i++) await nextTurn();
    expect(pushed).toBe(2);
    let pulled = 0;
    while (await channel.pull()) pulled++;
    await producer;
    expect(pulled).toBe(10);
    expect(channel.highWater).toBe(2);
  });

  it('ends only after every producer closes (fan-in)', async () => {
    const channel = new BatchChannel(4, 2);
    await channel.push(batch(1));
    channel.closeProducer();
    expect(await channel.pull()).toHaveLength(1);
    const next = channel.pull();
    await channel.push(batch(3));
    expect(await next).toHaveLength(3);
    channel.closeProducer();
    expect(await channel.pull()).toBeUndefined();
  });

  it('cancel releases waiting producers and consumers and reports dropped records', async () => {
    const channel = new BatchChannel(1, 1);
    await channel.push(batch(5));
    const blocked = channel.push(batch(1));
    expect(channel.cancel()).toBe(5);
    expect(await blocked).toBe(false);
    expect(await channel.pull()).toBeUndefined();
  });
});
