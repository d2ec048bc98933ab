/**
 * Messages between the main thread and the worker that runs one plugin
 * instance (cpu mode `worker`, or `cpu.thread` `worker`). Errors cross as `{code, message, details}`
 * (errors/wire.ts) and are rebuilt as `WeirError` on the other side.
 *
 * Setup goes over the worker's own port: the worker loads and compiles the
 * plugin, says `instantiating` (from then on the instantiation deadline runs:
 * start functions are guest code), then `ready` or `setup-failed`.
 *
 * A processor ({@link WorkerProcessor}) is called asynchronously over the
 * same port; batches cross as packed buffers (records/batch-codec),
 * transferred rather than copied.
 *
 * Host functions the guest calls synchronously (state, call-service, http) go over
 * a second port, the host port: the worker posts a request, bumps
 * {@link SIGNAL_POSTED} and blocks on `Atomics.wait` on {@link SIGNAL_REPLY};
 * the main thread answers on the port, then wakes it; the worker takes the
 * answer with `receiveMessageOnPort`. The main thread answers them from
 * `instantiating` on (start functions may call the host), not only during
 * calls.
 *
 * The other kinds ({@link BlockingWorkerInstance}) have synchronous
 * interfaces: the main thread posts an {@link Invoke} on the host port and
 * waits on {@link SIGNAL_POSTED} (at most `timeoutMs`), answering host calls
 * and handing on {@link Telemetry}, until the worker posts the call's
 * {@link InvokeOutcome} on the same port.
 */
import type { MessagePort } from 'node:worker_threads';
import type { WireError } from '../../errors/wire.js';
import type { InstanceLimits } from '../../contract/limits.js';
import type { PluginKind } from '../../contract/plugin.js';
import type { CapabilityGrants } from '../../contract/grants.js';
import type { ResourceUsage } from '../../contract/plugin.js';
import type { PluginLogLevel } from '../../linker/host-context.js';
import type { HttpRequest, HttpResponse } from '../../linker/http/send-request.js';

/** What the worker needs to create the instance. */
export interface WorkerSetup {
  file: string;
  cacheDir: string;
  node: string;
  plugin: string;
  config: Readonly<Record<string, unknown>>;
  capabilities: CapabilityGrants;
  /** The node's cap on distinct metric names: the worker holds at most this many updates between reports. */
  maxMetricNames: number;
  /** The world the instance fills. */
  kind: PluginKind;
  /** Limits the instance enforces itself (memory, output, fuel in mode `fuel`); in mode `worker` CPU is the watchdog's job. */
  limits: InstanceLimits;
  /** Port for synchronous host calls (and, for kinds other than processor, the calls themselves). */
  hostPort: MessagePort;
  /** {@link SIGNAL_WORDS} Int32s; see the SIGNAL_* indexes. */
  signal: SharedArrayBuffer;
}

export type { WireError };

/** Int32 the worker waits on during a host call; the main thread sets it to 1 when the reply is posted. */
export const SIGNAL_REPLY = 0;
/** Int32 the worker increments after each message it posts on the host port (a blocking caller waits on it). */
export const SIGNAL_POSTED = 1;
/** Int32 holding the id of the last processor call the worker finished (set before its result is posted). */
export const SIGNAL_FINISHED = 2;
/**
 * Int32 a blocking instance's worker sets to 1 as its thread exits (then it
 * bumps {@link SIGNAL_POSTED}): the caller, blocked on `Atomics.wait` with
 * no event loop to hear the worker's `exit` event, sees the death at once
 * rather than at `timeoutMs`.
 */
export const SIGNAL_EXITED = 3;
/** Int32s in the shared signal buffer. */
export const SIGNAL_WORDS = 4;

/** Main thread -> worker. */
export type ToWorker =
  | { type: 'configure'; id: number; config: string }
  /** `batch` is packed (records/batch-codec.ts); its buffer is transferred unless it is shared. */
  | { type: 'process'; id: number; batch: Uint8Array };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'instantiating' }
  | { type: 'ready' }
  | { type: 'setup-failed'; error: WireError }
  | { type: 'done'; id: number; output?: Uint8Array; usage: ResourceUsage }
  | { type: 'failed'; id: number; error: WireError; usage: ResourceUsage }
  /** The worker's engine could not write the cache (it goes on): for the run's log, not the plugin's. */
  | { type: 'cache-warning'; details: { path: string; cause: string }; message: string }
  | Telemetry;

/**
 * A log line or metric from the guest. A processor's go over the worker
 * port; once a blocking instance is ready, its go over the host port, so the
 * waiting caller hands them on in order, before the call's outcome. Log lines
 * are already cut to size and rate-limited in the worker
 * (linker/log-limiter.ts), and metric updates are summed there per name
 * (names checked against the node's caps) and reported once per name at the
 * end of each call, so neither piles up without bound.
 */
export type Telemetry =
  | { type: 'log'; level: PluginLogLevel; message: string }
  /** Log lines the worker dropped during a call (sent before its answer), for the node's count. */
  | { type: 'log-dropped'; count: number }
  | { type: 'counter'; name: string; delta: bigint }
  | { type: 'gauge'; name: string; value: number };

/** A synchronous host call from the guest. */
export type HostCall =
  | { op: 'state-get'; key: Uint8Array }
  | { op: 'state-set'; key: Uint8Array; value: Uint8Array }
  | { op: 'state-delete'; key: Uint8Array }
  | { op: 'state-size' }
  | { op: 'call-service'; service: string; method: string; payload: Uint8Array }
  | { op: 'http-send'; request: HttpRequest };

/** The answer to a {@link HostCall}. */
export type HostReply = { ok: true; value?: Uint8Array; response?: HttpResponse } | { ok: false; error: WireError };

/** Main thread -> worker on the host port: call `fn` of a non-processor instance. */
export interface Invoke {
  op: 'invoke';
  fn: string;
  args: unknown[];
}

/** Worker -> main thread on the host port: how an {@link Invoke} ended. */
export type InvokeOutcome =
  | { op: 'returned'; value: unknown; usage: ResourceUsage }
  | { op: 'threw'; error: WireError; usage: ResourceUsage };

/**
 * Worker -> main thread on the host port, from a blocking instance's thread
 * as it exits (`process.exit`, an uncaught error): its exit code and, when an
 * uncaught error ends it, that error's message. A thread stopped without
 * running JavaScript (V8 out of heap) cannot say it; the caller's
 * `timeoutMs` still ends the wait.
 */
export interface WorkerExit {
  op: 'exited';
  code: number;
  reason?: string;
}
