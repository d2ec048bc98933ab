// Plugin sources and sinks as the topology drives them: a plugin source is
// acknowledged only when the run asks (a checkpoint is durable), never at the
// next poll or at close; a plugin sink's preCommit flushes it.
import { describe, expect, it } from 'vitest';
import type { PollResult, SinkInstance, SourceInstance } from '../../src/contract/plugin.js';
import { pluginSink, pluginSource } from '../../src/topology/plugin-adapters.js';
import { textRecord } from '../../src/records/record.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** A source instance that hands out `polls` in turn and notes every call. */
function fakeSource(polls: PollResult[]) {
  const calls: string[] = [];
  const instance = {
    kind: 'source',
    open: () => {},
    poll: () => {
      calls.push('poll');
      return polls.shift()!;
    },
    ack: (position: Uint8Array) => calls.push(`ack ${text(position)}`),
    close: () => calls.push('close'),
    usage: () => ({}),
  } as unknown as SourceInstance;
  return { instance, calls };
}

describe('plugin source adapter', () => {
  it('never acknowledges on its own: not at the next poll, not at close', async () => {
    const { instance, calls } = fakeSource([
      { records: [textRecord('a')], position: bytes('1'), done: false },
      { records: [textRecord('b')], position: bytes('2'), done: false },
      { records: [], position: undefined, done: true },
    ]);
    const source = pluginSource(instance);
    expect(source.position!()).toBeUndefined();
    const first = await source.poll(10);
    expect(text(first.position)).toBe('1');
    expect(text(source.position!())).toBe('1');
    await source.poll(10);
    await source.poll(10);
    expect(text(source.position!())).toBe('2'); // a poll without a position keeps the last one
    await source.close();
    expect(calls).toEqual(['poll', 'poll', 'poll', 'close']);
  });

  it('acknowledges exactly the position it is given, when it is given', async () => {
    const { instance, calls } = fakeSource([
      { records: [textRecord('a')], position: bytes('1'), done: false },
      { records: [textRecord('b')], position: bytes('2'), done: false },
    ]);
    const source = pluginSource(instance);
    await source.poll(10);
    const checkpointed = source.position!()!;
    await source.poll(10);
    source.ack!(checkpointed);
    expect(calls).toEqual(['poll', 'poll', 'ack 1']);
  });

  it('stands at the position it was opened with until a poll reports another', async () => {
    const { instance } = fakeSource([{ records: [], position: undefined, done: false }, { records: [textRecord('x')], position: bytes('8'), done: false }]);
    const source = pluginSource(instance, bytes('7'));
    expect(text(source.position!())).toBe('7');
    await source.poll(10);
    expect(text(source.position!())).toBe('7');
    await source.poll(10);
    expect(text(source.position!())).toBe('8');
  });
});

describe('plugin sink adapter', () => {
  it('preCommit flushes the instance and returns an empty token', async () => {
    const calls: string[] = [];
    const instance = {
      kind: 'sink',
      open: () => {},
      write: () => calls.push('write'),
      flush: () => calls.push('flush'),
      close: () => calls.push('close'),
      usage: () => ({}),
    } as unknown as SinkInstance;
    const sink = pluginSink(instance);
    await sink.write([textRecord('a')]);
    const token = await sink.preCommit!();
    expect(calls).toEqual(['write', 'flush']);
    expect([...token]).toEqual([]);
  });
});
