/**
 * Batches stay packed end to end: a packed source's batches reach a
 * processor's `processPacked` and a sink's `writePacked` without record
 * objects; a processor without a packed path gets records; packed plugin
 * output is checked before it goes on, under every onError policy.
 * Stand-in processor instances make each case exact.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Sink } from '../../src/connectors/connector.js';
import type { Instantiate } from '../../src/instance/instantiate.js';
import { instantiate } from '../../src/instance/instantiate.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import { decodeBatch, encodeBatch } from '../../src/records/batch-codec.js';
import type { StreamRecord } from '../../src/records/record.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

const plugins = join(import.meta.dirname, '../../../plugins');
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const startPipeline = pipelinesClosedAfterEach();

/** What the stand-in processor and the `collect` sink saw. */
interface Seen {
  packedCalls: number;
  recordCalls: number;
  packedWrites: number;
  recordWrites: number;
  values: string[];
}

/** A stand-in processor: upper-cases values; its packed path (when given) may corrupt its output. */
function standIn(seen: Seen, packed: ((input: Uint8Array) => Uint8Array) | undefined): ProcessorInstance {
  const upper = (batch: StreamRecord[]) => batch.map((r) => ({ ...r, value: new TextEncoder().encode(text(r.value).toUpperCase()) }));
  return {
    kind: 'processor',
    configure: () => {},
    process: (batch) => {
      seen.recordCalls++;
      return upper(batch);
    },
    ...(packed ? { processPacked: (bytes: Uint8Array) => (seen.packedCalls++, packed(bytes)) } : {}),
    close: () => {},
    usage: () => ({ calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 }),
  };
}

async function runThrough(packed: ((input: Uint8Array) => Uint8Array) | undefined, onError: object = { policy: 'fail' }) {
  const seen: Seen = { packedCalls: 0, recordCalls: 0, packedWrites: 0, recordWrites: 0, values: [] };
  const registry = builtinConnectors().register({
    kind: 'sink', name: 'collect', description: 'test', configSchema: { type: 'object' },
    create: (): Sink => ({
      write: async (batch) => {
        seen.recordWrites++;
        for (const r of batch) seen.values.push(text(r.value));
      },
      writePacked: async (batch) => {
        seen.packedWrites++;
        for (const r of batch.records()) seen.values.push(text(r.value));
      },
      flush: async () => {},
      close: async () => {},
    }),
  });
  const instances: Instantiate = async (module, kind, host, limits) => (host.node === 'p' ? standIn(seen, packed) : instantiate(module, kind, host, limits));
  const { run } = await startPipeline({
    pipeline: {
      name: 'packed',
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 50, valueSize: 40, keyCardinality: 3 } },
        { id: 'p', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['in'], onError, batch: { maxRecords: 10, lingerMs: 0 } },
        { id: 'out', kind: 'sink', connector: 'collect', inputs: ['p'] },
      ],
    },
    plugins, connectors: registry, instantiate: () => instances,
  });
  return { summary: await run.done, seen };
}

const upperPacked = (bytes: Uint8Array) => encodeBatch(decodeBatch(bytes).map((r) => ({ ...r, value: new TextEncoder().encode(text(r.value).toUpperCase()) })));

describe('the packed path through a run', () => {
  it('hands packed batches to processPacked and writePacked: no record objects on the way', async () => {
    const { summary, seen } = await runThrough(upperPacked);
    expect(summary.status).toBe('completed');
    expect(seen).toMatchObject({ recordCalls: 0, recordWrites: 0 });
    expect(seen.packedCalls).toBeGreaterThan(0);
    expect(seen.packedWrites).toBeGreaterThan(0);
    expect(seen.values).toHaveLength(50);
    expect(seen.values.every((v) => v === v.toUpperCase() && v.startsWith('{"SEQ":'))).toBe(true);
  });

  it('gives records to a processor without a packed path, and its output reaches the sink', async () => {
    const { summary, seen } = await runThrough(undefined);
    expect(summary.status).toBe('completed');
    expect(seen.packedCalls).toBe(0);
    expect(seen.recordCalls).toBeGreaterThan(0);
    expect(seen.values).toHaveLength(50);
  });

  it('checks packed output before it goes on: a malformed batch fails the run with WEIR_PLUGIN_BAD_OUTPUT', async () => {
    const { summary, seen } = await runThrough((bytes) => upperPacked(bytes).subarray(0, 30));
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'WEIR_PIPELINE_FAILED', details: expect.objectContaining({ node: 'p', cause: 'WEIR_PLUGIN_BAD_OUTPUT' }) });
    expect(seen.values).toEqual([]);
  });

  it('isolates record by record on the packed path, so only the bad record is skipped', async () => {
    // Corrupts the output of any call holding record seq 7; alone, record 7 is skipped.
    const corruptSeven = (bytes: Uint8Array) => {
      const out = upperPacked(bytes);
      return decodeBatch(bytes).some((r) => text(r.value).startsWith('{"seq":7,')) ? out.subarray(0, out.length - 1) : out;
    };
    const { summary, seen } = await runThrough(corruptSeven, { policy: 'skip' });
    expect(summary.status).toBe('completed');
    expect(summary.nodes.find((n) => n.id === 'p')).toMatchObject({ in: 50, out: 49, skipped: 1, errors: 1 });
    expect(seen.values).toHaveLength(49);
    expect(seen.values.some((v) => v.startsWith('{"SEQ":7,'))).toBe(false);
  });
});
