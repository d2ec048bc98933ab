/**
 * Messages between a {@link WorkerProcessor} (main thread) and the worker
 * that runs its plugin instance. Batches cross as packed buffers
 * (records/batch-codec), transferred rather than copied; errors cross as
 * `{code, message, details}` and are rebuilt as `WeirError` on the other side.
 *
 * Host functions the guest calls synchronously (state, call-service, http) go over
 * a second port: the worker posts a request and blocks on `Atomics.wait`;
 * the main thread answers on the port, then wakes it; the worker takes the
 * answer with `receiveMessageOnPort`.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode, ErrorDetails } from '../../errors/errors.js';
import type { InstanceLimits } from '../limits.js';
import type { CapabilityGrants } from '../../linker/capabilities.js';
import type { ResourceUsage } from '../meter.js';
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
  /** Limits the instance enforces itself (memory, output); CPU is the watchdog's job. */
  limits: InstanceLimits;
  /** Port for synchronous host calls. */
  hostPort: MessagePort;
  /** One Int32 the worker waits on during a synchronous host call. */
  signal: SharedArrayBuffer;
}

/** A serialized WeirError. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
}

/** Main thread -> worker. */
export type ToWorker =
  | { type: 'configure'; id: number; config: string }
  | { type: 'process'; id: number; batch: Uint8Array };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'setup-failed'; error: WireError }
  | { type: 'done'; id: number; output?: Uint8Array; usage: ResourceUsage }
  | { type: 'failed'; id: number; error: WireError; usage: ResourceUsage }
  | { type: 'log'; level: PluginLogLevel; message: string }
  /** The worker's engine could not write the cache (it goes on): for the run's log, not the plugin's. */
  | { type: 'cache-warning'; details: { path: string; cause: string }; message: string }
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
