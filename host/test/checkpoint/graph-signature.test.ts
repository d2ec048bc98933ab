import { describe, expect, it } from 'vitest';
import { graphMismatches } from '../../src/checkpoint/graph-signature.js';
import type { NodeSignature } from '../../src/checkpoint/checkpoint-store.js';

const src: NodeSignature = { id: 'in', kind: 'source', implementation: 'connector:file' };
const count: NodeSignature = { id: 'count', kind: 'processor', implementation: 'plugin' };
const win: NodeSignature = { id: 'win', kind: 'processor', implementation: 'plugin', window: '{"type":"tumbling","sizeMs":1000}' };
const out: NodeSignature = { id: 'out', kind: 'sink', implementation: 'connector:file' };
const holding = new Set(['in', 'count', 'win', 'out']);

describe('graphMismatches', () => {
  it('accepts the same graph, added nodes, and nodes the checkpoint holds nothing for', () => {
    expect(graphMismatches([src, count, win, out], [src, count, win, out, { ...out, id: 'audit' }], holding)).toEqual([]);
    expect(graphMismatches([src, count, out], [src, out], new Set(['in', 'out']))).toEqual([]);
  });

  it('names each node that no longer fits, and why', () => {
    const reasons = graphMismatches([src, count, win, out], [{ ...src, implementation: 'connector:stdin' }, { ...win, window: '{"type":"tumbling","sizeMs":5000}' }, { ...out, kind: 'processor' }], holding);
    expect(reasons).toEqual([
      'node "in" ran connector:file when the checkpoint was taken and runs connector:stdin now',
      'the checkpoint holds keyed state of node "count", which is no longer in the pipeline',
      expect.stringContaining('node "win" has a different window'),
      'node "out" was a sink when the checkpoint was taken and is a processor now',
    ]);
  });
});
