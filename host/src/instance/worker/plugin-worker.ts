/**
 * Starts the worker thread of one plugin instance (cpu mode `worker`, or a
 * processor with `cpu.thread` `worker`) and waits until the instance is
 * ready. The worker loads and compiles the plugin first (host work, not the
 * guest's: unbounded here), then says `instantiating`. In cpu mode `worker`
 * the instance then has `limits.timeoutMs` to become ready, since
 * instantiation runs the guest's start functions: a start function that
 * loops is terminated with `WEIR_LIMIT_CPU`, as a call that loops would be.
 * In modes `fuel` and `none` there is no watchdog: the worker instantiates
 * the module compiled for the same limits as on the main thread, so its fuel
 * stops a start function that loops (`WEIR_LIMIT_CPU`, as in-thread). A
 * start function may call the host (state, services, http): those calls are
 * answered here, as during a call, until the instance is ready; its HTTP
 * requests get what is left of the instantiation budget (mode `worker`) or
 * the grant's own timeout.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WeirError, messageOf } from '../../errors/errors.js';
import { fromWireError } from '../../errors/wire.js';
import type { HostContext } from '../../linker/host-context.js';
import type { InstanceLimits } from '../../contract/limits.js';
import type { PluginKind } from '../../contract/plugin.js';
import { SIGNAL_REPLY, SIGNAL_WORDS } from './protocol.js';
import { processWarning } from '../../engine/transpile-cache.js';
import type { CacheWarning } from '../../engine/transpile-cache.js';
import type { FromWorker, HostCall, HostReply, WorkerSetup } from './protocol.js';
import { answerHostCall, hostErrorToWire } from './host-calls.js';
import { sendRequest } from '../../linker/http/send-request.js';

/** What a plugin worker needs. */
export interface PluginWorkerOptions {
  kind: PluginKind;
  file: string;
  cacheDir: string;
  host: HostContext;
  limits: InstanceLimits;
  /** Where the worker's cache write failures are reported (the engine's `warn`; default: a process warning). */
  warn?: CacheWarning;
  /** The worker's entry module (default {@link workerEntry}); tests wrap it to make the thread misbehave. */
  entry?: URL;
}

/** A worker whose instance is ready. */
export interface PluginWorker {
  readonly worker: Worker;
  /** The main thread's end of the host port. */
  readonly hostPort: MessagePort;
  /** The shared signal words (see protocol.ts). */
  readonly signal: Int32Array;
}

/** Starts a worker, loads the plugin in it and instantiates it within `limits.timeoutMs`. */
export function startPluginWorker(options: PluginWorkerOptions): Promise<PluginWorker> {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(SIGNAL_WORDS * Int32Array.BYTES_PER_ELEMENT);
  const { host, limits } = options;
  const setup: WorkerSetup = {
    file: options.file,
    cacheDir: options.cacheDir,
    node: host.node,
    plugin: host.plugin,
    config: host.config,
    capabilities: host.capabilities,
    maxMetricNames: host.maxMetricNames,
    kind: options.kind,
    limits: workerLimits(limits),
    hostPort: port2,
    signal,
  };
  const worker = new Worker(options.entry ?? workerEntry(), { workerData: setup, transferList: [port2] });
  const where = { node: host.node, plugin: host.plugin };
  const signals = new Int32Array(signal);
  const watchdogMs = watchdogOf(limits);
  return new Promise<PluginWorker>((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined;
    let instantiating = 0;
    let finished = false;
    /** Aborts the start functions' HTTP requests still in flight when start-up ends. */
    const requests = new AbortController();
    const finish = (error?: WeirError) => {
      finished = true;
      clearTimeout(deadline);
      requests.abort();
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      port1.off('message', onHostCall);
      if (!error) return resolve({ worker, hostPort: port1, signal: signals });
      port1.close();
      void worker.terminate();
      reject(error);
    };
    const reply = (answer: HostReply) => {
      if (finished) return;
      port1.postMessage(answer);
      Atomics.store(signals, SIGNAL_REPLY, 1);
      Atomics.notify(signals, SIGNAL_REPLY);
    };
    // The guest's start functions run from 'instantiating' on: a host call they make waits for this answer.
    const onHostCall = (call: HostCall) => {
      if (call.op !== 'http-send') return reply(answerHostCall(host, call));
      const left = watchdogMs === undefined ? undefined : watchdogMs - (performance.now() - instantiating) - START_HTTP_MARGIN_MS;
      sendRequest(host.capabilities.http, call.request, where, {
        timeoutMs: left,
        timeoutReason: `what was left of limits.timeoutMs (${limits.timeoutMs} ms) for instantiating`,
        signal: requests.signal,
      }).then(
        (response) => reply({ ok: true, response }),
        (error: unknown) => reply({ ok: false, error: hostErrorToWire(error, { ...where, function: 'http.send' }) }),
      );
    };
    const onMessage = (message: FromWorker) => {
      if (message.type === 'instantiating') {
        instantiating = performance.now();
        if (watchdogMs === undefined) return;
        deadline = setTimeout(() => finish(new WeirError(
          'WEIR_LIMIT_CPU',
          `${host.plugin} used up its CPU budget while instantiating (its start function ran longer than ${limits.timeoutMs} ms) and its worker was terminated (raise limits.timeoutMs if the work is legitimate)`,
          { ...where, function: 'instantiate', limit: 'timeout', timeoutMs: limits.timeoutMs },
        )), limits.timeoutMs);
      } else if (message.type === 'ready') {
        finish();
      } else if (message.type === 'setup-failed') {
        finish(fromWireError(message.error));
      } else if (message.type === 'cache-warning') {
        // The worker loads and compiles the plugin before it is ready: its cache writes happen here.
        (options.warn ?? processWarning)(message.details, message.message);
      } else {
        try {
          forwardTelemetry(host, message);
        } catch (error) {
          // A metric over the node's caps while the plugin starts: thrown from this listener it would end the process.
          finish(error instanceof WeirError ? error : new WeirError('WEIR_PLUGIN_LOAD_FAILED', messageOf(error), where));
        }
      }
    };
    const onError = (error: Error) => finish(new WeirError('WEIR_PLUGIN_LOAD_FAILED', `the worker for ${host.plugin} failed to start: ${messageOf(error)}`, where, { cause: error }));
    const onExit = () => finish(new WeirError('WEIR_PLUGIN_LOAD_FAILED', `the worker for ${host.plugin} exited while starting`, where));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    port1.on('message', onHostCall);
  });
}

/**
 * The wall-clock budget a watchdog on the main thread enforces per call and
 * for instantiation: `timeoutMs` in cpu mode `worker`; none in the other
 * modes, whose worker meters fuel itself (or runs unlimited, mode `none`).
 */
export function watchdogOf(limits: InstanceLimits): number | undefined {
  return limits.cpuMode === 'worker' ? limits.timeoutMs : undefined;
}

/**
 * The limits the worker instantiates the plugin with, on its own thread:
 * the same memory and output caps; fuel when the mode meters it (the same
 * instrumented module as on the main thread); no CPU limit of its own in
 * mode `worker`, where the watchdog is the limit.
 */
export function workerLimits(limits: InstanceLimits): InstanceLimits {
  return { ...limits, cpuMode: limits.cpuMode === 'worker' ? 'none' : limits.cpuMode, cpuThread: 'main' };
}

/** Time a start function keeps, after an HTTP request timed out, to handle the error before the deadline. */
const START_HTTP_MARGIN_MS = 100;

/**
 * Hands a log line, a count of dropped log lines or a metric the guest sent
 * to `host`; false for any other message.
 *
 * @throws WeirError `WEIR_LIMIT_METRICS` when a metric is over the node's caps.
 */
export function forwardTelemetry(host: HostContext, message: FromWorker): boolean {
  switch (message.type) {
    case 'log':
      host.log(message.level, message.message);
      return true;
    case 'log-dropped':
      host.logLimiter.add(message.count);
      return true;
    case 'counter':
      host.counterAdd(message.name, message.delta);
      return true;
    case 'gauge':
      host.gaugeSet(message.name, message.value);
      return true;
    default:
      return false;
  }
}

/**
 * The worker's entry module. Workers run the compiled host (dist/), also
 * when the host itself runs from TypeScript sources (under vitest).
 */
export function workerEntry(): URL {
  const here = new URL('./worker-entry.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../../../dist/instance/worker/worker-entry.js', import.meta.url);
}
