import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CheckpointPart, CheckpointStore, CheckpointWrite } from '../../src/checkpoint/checkpoint-store.js';
import { CheckpointCoordinator } from '../../src/topology/checkpoint-coordinator.js';
import type { CheckpointCoordinatorOptions } from '../../src/topology/checkpoint-coordinator.js';
import { until } from '../fixtures/until.js';

const logger = pino({ level: 'silent' });
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | null) => (value === null ? null : new TextDecoder().decode(value));

/** A store that keeps what it was asked to write, failing the writes `fail` says to. */
function recordingStore(fail: (c: CheckpointWrite) => boolean = () => false) {
  const written: CheckpointWrite[] = [];
  const store = {
    write: async (c: CheckpointWrite) => {
      if (fail(c)) throw new Error('disk full');
      written.push(c);
    },
  } as unknown as CheckpointStore;
  return { store, written };
}

function coordinator(store: CheckpointStore | undefined, overrides: Partial<CheckpointCoordinatorOptions> = {}) {
  const durable: Array<{ epoch: number; parts: ReadonlyMap<string, readonly CheckpointPart[]> }> = [];
  const failures: Error[] = [];
  const c = new CheckpointCoordinator({
    intervalMs: 5,
    store,
    graph: () => [
      { id: 'src', kind: 'source', implementation: 'connector:file' },
      { id: 'count', kind: 'processor', implementation: 'plugin' },
      { id: 'out', kind: 'sink', implementation: 'connector:file' },
    ],
    firstEpoch: 1,
    logger,
    onDurable: (epoch, parts) => durable.push({ epoch, parts }),
    onFailure: (error) => failures.push(error),
    ...overrides,
  });
  return { c, durable, failures };
}

const position = (node: string, value: string): CheckpointPart => ({ node, lane: 0, part: 'source', data: bytes(value) });

describe('CheckpointCoordinator', () => {
  it('starts an epoch, completes it once every participant reported, and writes state changes once', async () => {
    const { store, written } = recordingStore();
    const { c, durable } = coordinator(store);
    c.beginWiring(['src', 'count', 'out']);
    const request = c.request;
    c.start();
    await until(() => request.raised);
    const epoch = c.requestedEpoch!;
    expect(epoch).toBe(1);
    c.report('src', epoch, { parts: [position('src', 'offset 10')] });
    c.report('count', epoch, { state: new Map([['a', bytes('1')], ['b', null]]) });
    expect(written).toHaveLength(0);
    c.report('out', epoch, { parts: [{ node: 'out', lane: 0, part: 'sink', data: bytes('len 5') }] });
    await until(() => durable.length === 1);
    expect(written[0]!.epoch).toBe(1);
    expect(written[0]!.parts.map((p) => text(p.data))).toEqual(['offset 10', 'len 5']);
    expect([...written[0]!.state[0]!.changes].map(([k, v]) => [k, text(v)])).toEqual([['a', '1'], ['b', null]]);
    // The next epoch writes only what changed since.
    await until(() => c.requestedEpoch === 2);
    c.report('src', 2, { parts: [position('src', 'offset 20')] });
    c.report('count', 2, {});
    c.report('out', 2, {});
    await until(() => durable.length === 2);
    expect(written[1]!.state).toEqual([]);
    expect(written[1]!.parts.map((p) => text(p.data))).toEqual(['offset 20', 'len 5']);
    await c.close();
  });

  it('counts a node whose input ended as done for every later epoch', async () => {
    const { store, written } = recordingStore();
    const { c, durable } = coordinator(store);
    c.beginWiring(['src', 'out']);
    c.ended('src', { parts: [position('src', 'end')] });
    c.start();
    await until(() => c.requestedEpoch !== undefined);
    c.report('out', c.requestedEpoch!, {});
    await until(() => durable.length === 1);
    expect(text(written[0]!.parts[0]!.data)).toBe('end');
    await c.close();
  });

  it('keeps the state changes of an epoch dropped by a rewire for the next write', async () => {
    const { store, written } = recordingStore();
    const { c } = coordinator(store);
    c.beginWiring(['count']);
    c.start();
    await until(() => c.requestedEpoch !== undefined);
    c.pause();
    // The barrier of the dropped epoch still reaches the node: its changes are kept.
    c.report('count', 1, { state: new Map([['a', bytes('1')]]) });
    c.resume();
    c.beginWiring(['count']);
    await until(() => c.requestedEpoch !== undefined);
    c.report('count', c.requestedEpoch!, { state: new Map([['b', bytes('2')]]) });
    await until(() => written.length === 1);
    expect([...written[0]!.state[0]!.changes.keys()].sort()).toEqual(['a', 'b']);
    await c.close();
  });

  it('fails the run when a write fails, and writes nothing after', async () => {
    const { store, written } = recordingStore(() => true);
    const { c, failures } = coordinator(store);
    c.beginWiring(['count']);
    c.start();
    await until(() => c.requestedEpoch !== undefined);
    c.report('count', c.requestedEpoch!, { state: new Map([['a', bytes('1')]]) });
    await until(() => failures.length === 1);
    expect((failures[0] as { code?: string }).code).toBe('WEIR_CHECKPOINT_STORE');
    c.ended('count', { state: new Map([['b', bytes('2')]]) });
    await c.final();
    expect(written).toEqual([]);
  });

  it('holds back what a node hands over after it reported the epoch in flight: a checkpoint is one cut', async () => {
    const { store, written } = recordingStore();
    const { c } = coordinator(store);
    c.beginWiring(['src', 'count', 'out']);
    c.start();
    await until(() => c.requestedEpoch !== undefined);
    const epoch = c.requestedEpoch!;
    c.report('src', epoch, { parts: [position('src', 'at barrier')] });
    c.report('count', epoch, { state: new Map([['a', bytes('1')]]) });
    // The input ends before the barrier has reached the sink: what the source and count hold now is after the cut.
    c.ended('src', { parts: [position('src', 'end of input')] });
    c.ended('count', { state: new Map([['a', bytes('2')]]) });
    c.report('out', epoch, { parts: [{ node: 'out', lane: 0, part: 'sink', data: bytes('len at barrier') }] });
    await until(() => written.length === 1);
    expect(written[0]!.parts.map((p) => text(p.data))).toEqual(['at barrier', 'len at barrier']);
    expect([...written[0]!.state[0]!.changes].map(([k, v]) => [k, text(v)])).toEqual([['a', '1']]);
    c.ended('out', { parts: [{ node: 'out', lane: 0, part: 'sink', data: bytes('len at end') }] });
    await c.final();
    expect(written[1]!.parts.map((p) => text(p.data))).toEqual(['end of input', 'len at end']);
    expect([...written[1]!.state[0]!.changes].map(([k, v]) => [k, text(v)])).toEqual([['a', '2']]);
  });

  it('drops the parts and state of nodes no longer in the pipeline', async () => {
    const { store, written } = recordingStore();
    let graph = [{ id: 'src', kind: 'source' as const, implementation: 'connector:file' }, { id: 'old', kind: 'processor' as const, implementation: 'plugin' }];
    const { c } = coordinator(store, { graph: () => graph });
    c.beginWiring(['src', 'old']);
    c.ended('src', { parts: [position('src', 'p')] });
    c.ended('old', { parts: [{ node: 'old', lane: 0, part: 'windows', data: bytes('w') }], state: new Map([['k', bytes('v')]]) });
    graph = graph.slice(0, 1);
    await c.final();
    expect(written[0]!.parts.map((p) => p.node)).toEqual(['src']);
    expect(written[0]!.state).toEqual([]);
  });

  it('without a store, completes epochs in memory so sources are acknowledged', async () => {
    const { c, durable } = coordinator(undefined);
    c.beginWiring(['src']);
    c.start();
    await until(() => c.requestedEpoch !== undefined);
    c.report('src', c.requestedEpoch!, { parts: [position('src', 'p1')] });
    await until(() => durable.length === 1);
    expect(text(durable[0]!.parts.get('src')![0]!.data)).toBe('p1');
    await c.close();
  });
});
