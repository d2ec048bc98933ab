import { describe, expect, it } from 'vitest';
import { MemoryKeyedState, StagedKeyedState, keyBytes, mapKey } from '../../src/state/keyed-state.js';
import { KEY_GROUPS, keyGroup } from '../../src/state/key-groups.js';
import { keyLane } from '../../src/topology/partitioner.js';
import { hasCode } from '../../src/errors/errors.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b == null ? b : new TextDecoder().decode(b));
/** A change record as plain `{key: value}` text. */
const plain = (changes: Map<string, Uint8Array | null>) => Object.fromEntries([...changes].map(([k, v]) => [text(keyBytes(k)), text(v)]));

describe('MemoryKeyedState changes', () => {
  it('hands over the keys written and deleted since the last call, once', () => {
    const state = new MemoryKeyedState(undefined, 'n', { trackChanges: true });
    state.set(bytes('a'), bytes('1'));
    state.set(bytes('b'), bytes('2'));
    state.set(bytes('a'), bytes('3'));
    expect(plain(state.takeChanges())).toEqual({ a: '3', b: '2' });
    expect(state.takeChanges().size).toBe(0);
    state.delete(bytes('b'));
    state.set(bytes('c'), bytes('4'));
    expect(plain(state.takeChanges())).toEqual({ b: null, c: '4' });
  });

  it('marks the keys of a committed staged view as changed, and not those of a rolled-back one', () => {
    const state = new MemoryKeyedState(undefined, 'n', { trackChanges: true });
    state.set(bytes('gone'), bytes('x'));
    state.takeChanges();
    const call = new StagedKeyedState(state);
    call.set(bytes('k'), bytes('v'));
    call.delete(bytes('gone'));
    expect(state.takeChanges().size).toBe(0);
    call.commit();
    expect(plain(state.takeChanges())).toEqual({ k: 'v', gone: null });
    const failed = new StagedKeyedState(state);
    failed.set(bytes('k'), bytes('w'));
    failed.rollback();
    expect(state.takeChanges().size).toBe(0);
  });

  it('hands over values that later writes do not change (stored values are replaced, never mutated)', () => {
    const state = new MemoryKeyedState(undefined, 'n', { trackChanges: true });
    state.set(bytes('a'), bytes('1'));
    const first = state.takeChanges().get(mapKey(bytes('a')))!;
    state.set(bytes('a'), bytes('2'));
    state.delete(bytes('a'));
    state.set(bytes('a'), bytes('3'));
    expect(text(first)).toBe('1');
    // A read copies out: changing it changes neither the store nor the change record.
    const read = state.get(bytes('a'))!;
    read[0] = 0;
    expect(text(state.takeChanges().get(mapKey(bytes('a'))))).toBe('3');
  });

  it('records nothing when not tracking', () => {
    const state = new MemoryKeyedState();
    state.set(bytes('a'), bytes('1'));
    expect(state.takeChanges().size).toBe(0);
  });
});

describe('MemoryKeyedState.restore', () => {
  it('loads entries with their byte and key counts, not as changes', () => {
    const state = new MemoryKeyedState({ maxBytes: 100, maxKeys: 10 }, 'n', { trackChanges: true });
    const pool = new Uint8Array(64);
    pool.set(bytes('view'), 8);
    state.restore([[bytes('a'), bytes('12')], [bytes('bb'), pool.subarray(8, 12)]]);
    expect(state.size).toBe(2);
    expect(state.bytes).toBe(1 + 2 + 2 + 4);
    // A value that is a view into a larger buffer is copied: the buffer is neither kept nor shared.
    pool.fill(0);
    expect(text(state.get(bytes('bb')))).toBe('view');
    expect(state.takeChanges().size).toBe(0);
    state.set(bytes('a'), bytes('3'));
    expect(plain(state.takeChanges())).toEqual({ a: '3' });
  });

  it('refuses a checkpoint above the limits now, leaving the store empty', () => {
    const tooMany = new MemoryKeyedState({ maxBytes: 1000, maxKeys: 1 }, 'agg');
    let error: unknown;
    try {
      tooMany.restore([[bytes('a'), bytes('1')], [bytes('b'), bytes('2')]]);
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'WEIR_LIMIT_STATE')).toBe(true);
    expect((error as Error).message).toMatch(/checkpoint holds more than 1 keys .*node "agg".*limits allow now/);
    expect(tooMany.size).toBe(0);
    expect(tooMany.bytes).toBe(0);
    const tooBig = new MemoryKeyedState({ maxBytes: 4, maxKeys: 10 }, 'agg');
    expect(() => tooBig.restore([[bytes('a'), bytes('1234')]])).toThrow(/maxStateBytes/);
  });

  it('refuses to restore into a store that holds keys', () => {
    const state = new MemoryKeyedState();
    state.set(bytes('a'), bytes('1'));
    expect(() => state.restore([])).toThrow(/empty/);
  });
});

describe('keys and key groups', () => {
  it('round-trips a key through its internal form, into a buffer of its own', () => {
    const key = new Uint8Array([0, 255, 128, 7]);
    const back = keyBytes(mapKey(key));
    expect([...back]).toEqual([...key]);
    expect(back.buffer.byteLength).toBe(4);
  });

  it('puts each key in one of 128 groups, by the partitioner hash', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const key = bytes(`key-${i}`);
      const group = keyGroup(key);
      expect(group).toBe(keyLane(key, KEY_GROUPS));
      seen.add(group);
    }
    expect(KEY_GROUPS).toBe(128);
    expect(seen.size).toBe(128);
  });
});
