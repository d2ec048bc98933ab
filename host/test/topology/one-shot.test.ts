import { describe, expect, it } from 'vitest';
import { OneShot, RAISED } from '../../src/topology/one-shot.js';

describe('OneShot', () => {
  it('a race whose work settles first leaves no listener behind (nothing retains its value)', async () => {
    const signal = new OneShot();
    for (let i = 0; i < 100; i++) expect(await signal.race(Promise.resolve(i))).toBe(i);
    await expect(signal.race(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(signal.waiting).toBe(0);
  });

  it('raising resolves pending races with RAISED; later races resolve at once', async () => {
    const signal = new OneShot();
    const pending = signal.race(new Promise<number>(() => {}));
    expect(signal.waiting).toBe(1);
    signal.raise();
    expect(await pending).toBe(RAISED);
    expect(signal.raised).toBe(true);
    expect(await signal.race(Promise.resolve(1))).toBe(RAISED);
    expect(signal.waiting).toBe(0);
  });
});
