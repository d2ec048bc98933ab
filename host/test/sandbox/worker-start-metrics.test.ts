/**
 * A worker-mode instance whose plugin reports more metric names than its node
 * allows while it starts (before the worker says it is ready). The main
 * thread counts those metrics in the worker's message listener; a
 * WEIR_LIMIT_METRICS thrown from that listener once ended the host process.
 * Now the start fails with that error, and a pipeline with such a node does
 * not start, with the node named.
 *
 * The worker here is a real thread that sends what a plugin worker sends
 * (`instantiating`, two counters, `ready`) in place of the plugin worker's
 * entry module: the real entry checks metric names against the cap itself
 * (in the call, as in-thread), so only a worker that misbehaves can send the
 * main thread's listener more names than the node allows; this stands in for
 * one, and the listener must still not take the host down.
 */
import { describe, expect, it, vi } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import { createHostContext } from '../../src/linker/host-context.js';
import type { PluginMetrics } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import { startPluginWorker } from '../../src/instance/worker/plugin-worker.js';

vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  // Sends what a starting plugin worker sends, with a second metric name, then waits to be terminated.
  const script = `
    const { parentPort } = require('node:worker_threads');
    parentPort.postMessage({ type: 'instantiating' });
    parentPort.postMessage({ type: 'counter', name: 'first', delta: 1n });
    parentPort.postMessage({ type: 'counter', name: 'second', delta: 1n });
    parentPort.postMessage({ type: 'ready' });
    setInterval(() => {}, 60_000);
  `;
  class ScriptedWorker extends real.Worker {
    constructor(_entry: URL | string, options: import('node:worker_threads').WorkerOptions) {
      super(script, { ...options, eval: true });
    }
  }
  return { ...real, Worker: ScriptedWorker };
});

describe('a metric over the node\'s cap while a worker-mode instance starts', () => {
  it('fails the start with WEIR_LIMIT_METRICS naming the node (it does not throw from the listener)', async () => {
    const metrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
    const host = createHostContext({
      node: 'counting', plugin: 'metrics-at-start.wasm', config: {}, logger: pino({ level: 'silent' }),
      state: new MemoryKeyedState(), metrics, maxMetricNames: 1, callService: () => new Uint8Array(),
    });
    const started = startPluginWorker({ kind: 'processor', file: 'metrics-at-start.wasm', cacheDir: '/nonexistent', host, limits: { ...instanceLimits(DEFAULT_LIMITS), cpuMode: 'worker' } });
    const error = await started.then(
      ({ worker }) => {
        void worker.terminate();
        throw new Error('the worker started although its plugin used two metric names with maxMetricNames 1');
      },
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'WEIR_LIMIT_METRICS', details: { node: 'counting', plugin: 'metrics-at-start.wasm', maxMetricNames: 1 } });
    expect((error as Error).message).toContain('limits.maxMetricNames (1)');
    // The metric within the cap stays counted.
    expect([...metrics.counters.keys()]).toEqual(['first']);
  }, 60_000);

  it('a pipeline with such a worker-mode node does not start: the node error, with the limit code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-worker-start-metrics-'));
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'worker-start-metrics',
      plugins: { dir: join(import.meta.dirname, '../../../plugins') },
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'counting', kind: 'processor', plugin: 'uppercase-js.wasm', inputs: ['in'], limits: { cpu: { mode: 'worker' }, maxMetricNames: 1 } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['counting'] },
      ],
    }));
    const connectors = builtinConnectors();
    const prepared = await preparePipeline(join(dir, 'pipeline.json'), new Engine({ cacheDir: join(dir, 'cache') }), connectors);
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    const error = await PipelineRun.start(prepared.config, { modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() })
      .then(async (run) => {
        run.stop();
        await run.done;
        throw new Error('the pipeline started');
      }, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEIR_LIMIT_METRICS', details: { node: 'counting' } });
  }, 60_000);
});
