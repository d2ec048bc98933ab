/**
 * Runs inside a worker thread: loads one plugin with its own {@link Engine}
 * (the transpile cache on disk makes that quick), compiles it, says
 * `instantiating` (the main thread's deadline starts), instantiates it with a
 * host context whose functions reach the main thread, and serves its calls:
 * a processor's configure and process over the worker port, any other kind's
 * calls over the host port (see ./protocol.ts). The instance runs here under
 * the limits ./plugin-worker.ts gives it (`workerLimits`): memory and output
 * caps always, fuel in mode `fuel`. In mode `worker`, if a call runs away,
 * the main thread terminates this thread.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Engine } from '../../engine/engine.js';
import type { CacheWarning } from '../../engine/transpile-cache.js';
import { instantiate } from '../instantiate.js';
import { fromWireError, toWireError } from '../../errors/wire.js';
import { boundedText } from '../../errors/bounded-text.js';
import { decodeBatch, encodeBatch } from '../../records/batch-codec.js';
import { metricFunctions } from '../../linker/host-context.js';
import type { HostContext, PluginMetrics } from '../../linker/host-context.js';
import { LogLimiter, limitedLog } from '../../linker/log-limiter.js';
import type { KeyedState } from '../../state/keyed-state.js';
import type { PluginInstance, ProcessorInstance } from '../../contract/plugin.js';
import { SIGNAL_EXITED, SIGNAL_FINISHED, SIGNAL_POSTED, SIGNAL_REPLY } from './protocol.js';
import type { FromWorker, HostCall, HostReply, Invoke, InvokeOutcome, Telemetry, ToWorker, WireError, WorkerExit, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const signal = new Int32Array(setup.signal);
const send = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

function toWire(error: unknown): WireError {
  return toWireError(error, { code: 'WEIR_PLUGIN_TRAP', details: { node: setup.node, plugin: setup.plugin } });
}

/** Posts on the host port and wakes a main thread that waits for it (a blocking caller). */
function post(message: HostCall | InvokeOutcome | Telemetry | WorkerExit): void {
  setup.hostPort.postMessage(message);
  Atomics.add(signal, SIGNAL_POSTED, 1);
  Atomics.notify(signal, SIGNAL_POSTED);
}

/** Sends a host call to the main thread and blocks until it answers. */
function hostCall(call: HostCall): HostReply & { ok: true } {
  Atomics.store(signal, SIGNAL_REPLY, 0);
  post(call);
  Atomics.wait(signal, SIGNAL_REPLY, 0);
  const reply = receiveMessageOnPort(setup.hostPort)!.message as HostReply;
  if (!reply.ok) throw fromWireError(reply.error);
  return reply;
}

/** Whether telemetry goes over the host port: a ready blocking instance, whose caller waits there. */
let telemetryOnHostPort = false;
const report = (message: Telemetry): void => (telemetryOnHostPort ? post(message) : send(message));

const state: KeyedState = {
  get: (key) => hostCall({ op: 'state-get', key }).value,
  set: (key, value) => void hostCall({ op: 'state-set', key, value }),
  delete: (key) => void hostCall({ op: 'state-delete', key }),
  get size() {
    return new DataView(hostCall({ op: 'state-size' }).value!.buffer).getUint32(0);
  },
};

const logLimiter = new LogLimiter();
/**
 * Metric updates since the last report, summed per name (a gauge keeps its
 * last value): a plugin that updates a metric a million times sends one
 * message, and its names pass the node's caps here, in the call, as they
 * would in-thread (`WEIR_LIMIT_METRICS` poisons the instance).
 */
const pendingMetrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
/** Tells the main thread how many log lines this worker dropped, and the metric updates, since it last said. */
const reportPending = (): void => {
  const count = logLimiter.claimDropped();
  if (count > 0) report({ type: 'log-dropped', count });
  for (const [name, delta] of pendingMetrics.counters) report({ type: 'counter', name, delta });
  for (const [name, value] of pendingMetrics.gauges) report({ type: 'gauge', name, value });
  pendingMetrics.counters.clear();
  pendingMetrics.gauges.clear();
};

const host: HostContext = {
  node: setup.node,
  plugin: setup.plugin,
  config: setup.config,
  // Bounded here, so that what queues towards the main thread is bounded too.
  log: limitedLog(logLimiter, (level, message) => report({ type: 'log', level, message })),
  logLimiter,
  configValue: (key) => (Object.hasOwn(setup.config, key) ? JSON.stringify(setup.config[key]) : undefined),
  state,
  ...metricFunctions(pendingMetrics, setup.maxMetricNames, { node: setup.node, plugin: setup.plugin }),
  callService: (service, method, payload) => hostCall({ op: 'call-service', service, method, payload }).value!,
  now: () => BigInt(Date.now()),
  // The main thread sends it (and checks the grant): only this worker waits.
  httpSend: (request) => hostCall({ op: 'http-send', request }).response!,
  capabilities: setup.capabilities,
  maxMetricNames: setup.maxMetricNames,
};

let instance: PluginInstance;
try {
  // Cache write failures go to the main thread's logger (PluginWorkerOptions.warn), not process.emitWarning.
  const warn: CacheWarning = (details, message) => send({ type: 'cache-warning', details, message });
  const module = await new Engine({ cacheDir: setup.cacheDir, warn }).load(setup.file);
  await module.prepare(setup.limits);
  send({ type: 'instantiating' });
  instance = await instantiate(module, setup.kind, host, setup.limits);
  reportPending();
  send({ type: 'ready' });
} catch (error) {
  reportPending();
  send({ type: 'setup-failed', error: toWire(error) });
  process.exit(0);
}

/**
 * Runs a packed batch through the instance: its own packed path when it has
 * one, else decoded records through `process`. The output comes back in a
 * buffer of its own, to be transferred (the main thread checks it again).
 */
async function processPacked(processor: ProcessorInstance, batch: Uint8Array): Promise<Uint8Array> {
  if (!processor.processPacked) return encodeBatch(await processor.process(decodeBatch(batch)));
  const output = await processor.processPacked(batch);
  const whole = output.byteOffset === 0 && output.byteLength === output.buffer.byteLength && !(output.buffer instanceof SharedArrayBuffer);
  return whole ? output : output.slice();
}

if (instance.kind === 'processor') {
  const processor: ProcessorInstance = instance;
  port.on('message', async (message: ToWorker) => {
    try {
      if (message.type === 'configure') {
        processor.configure(message.config);
        reportPending();
        Atomics.store(signal, SIGNAL_FINISHED, message.id);
        send({ type: 'done', id: message.id, usage: processor.usage() });
      } else {
        const output = await processPacked(processor, message.batch);
        reportPending();
        Atomics.store(signal, SIGNAL_FINISHED, message.id);
        send({ type: 'done', id: message.id, output, usage: processor.usage() }, [output.buffer as ArrayBuffer]);
      }
    } catch (error) {
      reportPending();
      Atomics.store(signal, SIGNAL_FINISHED, message.id);
      send({ type: 'failed', id: message.id, error: toWire(error), usage: processor.usage() });
    }
  });
} else {
  telemetryOnHostPort = true;
  // The caller may be blocked in a call, deaf to this worker's exit event: tell it here (see SIGNAL_EXITED).
  let reason: string | undefined;
  process.on('uncaughtExceptionMonitor', (error) => {
    reason = boundedText(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  });
  process.on('exit', (code) => {
    try {
      setup.hostPort.postMessage({ op: 'exited', code, ...(reason === undefined ? {} : { reason }) } satisfies WorkerExit);
    } finally {
      Atomics.store(signal, SIGNAL_EXITED, 1);
      Atomics.add(signal, SIGNAL_POSTED, 1);
      Atomics.notify(signal, SIGNAL_POSTED);
    }
  });
  const target = instance as unknown as Record<string, (...args: unknown[]) => unknown>;
  setup.hostPort.on('message', (message: Invoke) => {
    try {
      const value = target[message.fn]!(...message.args);
      reportPending();
      post({ op: 'returned', value, usage: instance.usage() });
    } catch (error) {
      reportPending();
      post({ op: 'threw', error: toWire(error), usage: instance.usage() });
    }
  });
}
