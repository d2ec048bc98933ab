/**
 * `host` holds V8's young generation at its starting size (cli/heap-growth.ts),
 * so a long run's memory does not grow with its length: a child process that keeps
 * a few objects alive across every scavenge, as a pipeline keeps batches in flight,
 * ends with the young generation it started with. Needs `dist/` (tsc -p tsconfig.build.json).
 */
import { describe, expect, it } from 'vitest';
import { distModule, runWithSmallHeap } from '../sandbox/small-heap-child.js';
import { heapGrowthSetByUser, youngGenerationSizedByUser } from '../../src/cli/heap-growth.js';

/** The child: young generation size before and after a churn whose survivors add up with its length. */
const churn = (hold: boolean): string => `
  import { getHeapSpaceStatistics } from 'node:v8';
  const { boundHeapGrowth } = await import(${JSON.stringify(distModule('cli/heap-growth.js'))});
  const held = ${hold} ? boundHeapGrowth([], undefined).youngGeneration : false;
  const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  const inFlight = new Array(2000);
  const allocate = (n) => { for (let i = 0; i < n; i++) inFlight[i % inFlight.length] = { i, fields: [i, i + 1] }; };
  allocate(20_000); // past the first scavenges, which set the young generation up
  const before = newSpace();
  allocate(3_000_000);
  console.log(JSON.stringify({ held, before, after: newSpace() }));
`;

describe('boundHeapGrowth', () => {
  it('keeps the young generation at its starting size however long the process allocates', async () => {
    const free = await runWithSmallHeap(churn(false), 256);
    const held = await runWithSmallHeap(churn(true), 256);
    expect(free.code, free.stderr).toBe(0);
    expect(held.code, held.stderr).toBe(0);
    const withoutHold = JSON.parse(free.stdout);
    const withHold = JSON.parse(held.stdout);
    // The same churn grows it when nothing holds it: the test would see no difference otherwise.
    expect(withoutHold.after).toBeGreaterThan(withoutHold.before);
    expect(withHold.held).toBe(true);
    expect(withHold.after).toBe(withHold.before);
  });

  it('leaves a young generation the user sized alone', () => {
    expect(youngGenerationSizedByUser(['--max-semi-space-size=16'], undefined)).toBe(true);
    expect(youngGenerationSizedByUser([], '--max-old-space-size=512 --min_semi_space_size=4')).toBe(true);
    expect(youngGenerationSizedByUser(['--semi-space-growth-factor=2'], undefined)).toBe(true);
    expect(youngGenerationSizedByUser(['--max-old-space-size=200', '--expose-gc'], '--enable-source-maps')).toBe(false);
    expect(youngGenerationSizedByUser([], undefined)).toBe(false);
    expect(heapGrowthSetByUser([], '--heap-growing-percent=50')).toBe(true);
    expect(heapGrowthSetByUser(['--max-semi-space-size=16'], undefined)).toBe(false);
  });
});
