/**
 * Sources, sinks, services and aggregators in cpu mode `worker`. Their
 * interfaces are synchronous (a source's poll, an aggregator's accumulate, a
 * service called from inside another plugin's call), so the calling thread
 * posts the call to the instance's worker and blocks on `Atomics.wait`
 * until the worker posts the outcome, answering the guest's host calls
 * (state, call-service, http) and handing on its log lines and metrics as
 * they come. The wait is bounded by
 * `limits.timeoutMs` of wall time, host calls included: when it runs out,
 * the worker is terminated (V8 stops the guest wherever it is) and the call
 * fails with `WEIR_LIMIT_CPU`; the instance is poisoned, to be recreated.
 * A signal is therefore seen at most `timeoutMs` late. A worker thread that
 * dies during a call (`process.exit`, an uncaught error) says so as it exits
 * (`SIGNAL_EXITED`, see ./protocol.ts), so the call fails at once with
 * `WEIR_PLUGIN_TRAP` rather than waiting out `timeoutMs`.
 *
 * Each call costs a round trip between threads and a structured clone of
 * its arguments and result: tens of microseconds, per record for an
 * aggregator's accumulate. Fuel mode stays the fast default.
 *
 * Lifecycle: `start()` resolves once the worker has instantiated the plugin
 * (within `limits.timeoutMs`); `close()` ends the guest's session where the
 * kind has one, then terminates the worker.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort, Worker } from 'node:worker_threads';
import { WeirError } from '../../errors/errors.js';
import { fromWireError } from '../../errors/wire.js';
import type { HostContext } from '../../linker/host-context.js';
import type { AggregatorInstance, InstanceState, PluginInstance, PluginKind, PollResult, ServiceInstance, SinkInstance, SourceInstance } from '../../contract/plugin.js';
import { POISONING_CODES } from '../../sandbox/call-guard.js';
import type { InstanceLimits } from '../../contract/limits.js';
import type { ResourceUsage } from '../../contract/plugin.js';
import type { StreamRecord } from '../../records/record.js';
import { SIGNAL_EXITED, SIGNAL_POSTED, SIGNAL_REPLY } from './protocol.js';
import type { FromWorker, HostCall, Invoke, InvokeOutcome, Telemetry, WorkerExit } from './protocol.js';
import { answerHostCall } from './host-calls.js';
import { forwardTelemetry, startPluginWorker } from './plugin-worker.js';
import type { PluginWorker, PluginWorkerOptions } from './plugin-worker.js';

/** The kinds a {@link BlockingWorkerInstance} serves. */
export type BlockingKind = Exclude<PluginKind, 'processor'>;

/** The synchronous calls of one worker instance, any kind but processor. */
export class BlockingWorkerInstance {
  #state: InstanceState = 'ready';
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #host: HostContext;
  readonly #limits: InstanceLimits;
  #usage: ResourceUsage = { calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 };
  #callMs = 0;

  private constructor({ worker, hostPort, signal }: PluginWorker, host: HostContext, limits: InstanceLimits) {
    this.#worker = worker;
    this.#port = hostPort;
    this.#signal = signal;
    this.#host = host;
    this.#limits = limits;
    // Log lines and metrics come over the host port during calls; none are sent on the worker port once ready.
    worker.on('message', (message: FromWorker) => {
      try {
        forwardTelemetry(host, message);
      } catch {
        // A metric over the node's caps: the instance is retired (the next call says it is poisoned).
        this.#retire();
      }
    });
    worker.on('error', () => this.#poison());
    worker.on('exit', () => this.#poison());
  }

  /** Starts a worker for `options.kind` and returns the instance of that kind. */
  static async start(options: PluginWorkerOptions): Promise<PluginInstance> {
    const kind = options.kind;
    if (kind === 'processor') throw new Error('processors in a worker are WorkerProcessor instances');
    const calls = new BlockingWorkerInstance(await startPluginWorker(options), options.host, options.limits);
    return calls.#as(kind);
  }

  /** `ready`, `busy` during a call, `poisoned` after a breach, trap or a dead worker, `closed`. */
  get state(): InstanceState {
    return this.#state;
  }

  /** What the instance used; time in calls is measured here, so it includes waiting for host calls. */
  usage(): ResourceUsage {
    return { ...this.#usage, callMs: this.#callMs };
  }

  /** Terminates the worker; later calls are refused. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#port.close();
    void this.#worker.terminate();
  }

  /**
   * Calls `fn` of the instance in the worker and waits for its outcome, at
   * most `limits.timeoutMs`; throws what the guest's call threw (rebuilt as
   * a `WeirError`), or `WEIR_LIMIT_CPU` when time runs out.
   */
  invoke<T>(fn: string, args: unknown[]): T {
    if (this.#state !== 'ready') {
      const why = this.#state === 'poisoned' ? 'is poisoned after a failure' : this.#state === 'busy' ? `was re-entered during a call (${fn})` : 'is closed';
      throw new WeirError(this.#state === 'closed' ? 'WEIR_INSTANCE_CLOSED' : 'WEIR_PLUGIN_TRAP', `${this.#host.plugin} cannot be called: the instance ${why}`, this.#where(fn));
    }
    this.#state = 'busy';
    const started = performance.now();
    const deadline = started + this.#limits.timeoutMs;
    const invoke: Invoke = { op: 'invoke', fn, args };
    let exitFlagSeen = false;
    try {
      this.#port.postMessage(invoke);
      for (;;) {
        // Read the counter before looking at the port: a message posted after the look bumps it, so the wait returns at once.
        const seen = Atomics.load(this.#signal, SIGNAL_POSTED);
        const received = receiveMessageOnPort(this.#port);
        if (received) {
          const message = received.message as HostCall | InvokeOutcome | Telemetry | WorkerExit;
          if ('type' in message) {
            try {
              forwardTelemetry(this.#host, message);
            } catch (error) {
              // A metric over the node's caps (WEIR_LIMIT_METRICS) fails the call and retires the worker.
              this.#retire();
              throw error;
            }
          }
          else if (message.op === 'returned' || message.op === 'threw') return this.#settle<T>(message);
          else if (message.op === 'exited') throw this.#died(fn, message);
          else this.#answer(message);
          continue;
        }
        if (Atomics.load(this.#signal, SIGNAL_EXITED) !== 0) {
          // The thread posts its exit before it sets the flag: the message may have come since the look above, so look once more.
          if (!exitFlagSeen) {
            exitFlagSeen = true;
            continue;
          }
          // The flag is set but no message came: it died all the same.
          throw this.#died(fn);
        }
        // Checked only after the port came up empty: an outcome posted in time wins over a late look at the clock.
        const left = deadline - performance.now();
        if (left <= 0) throw this.#timedOut(fn);
        Atomics.wait(this.#signal, SIGNAL_POSTED, seen, left);
      }
    } finally {
      this.#callMs += performance.now() - started;
    }
  }

  #settle<T>(outcome: InvokeOutcome): T {
    this.#usage = outcome.usage;
    if (outcome.op === 'returned') {
      this.#state = 'ready';
      return outcome.value as T;
    }
    const error = fromWireError(outcome.error);
    this.#state = POISONING_CODES.includes(error.code) ? 'poisoned' : 'ready';
    throw error;
  }

  #answer(call: HostCall): void {
    this.#port.postMessage(answerHostCall(this.#host, call));
    Atomics.store(this.#signal, SIGNAL_REPLY, 1);
    Atomics.notify(this.#signal, SIGNAL_REPLY);
  }

  #timedOut(fn: string): WeirError {
    this.#state = 'poisoned';
    void this.#worker.terminate();
    const { timeoutMs } = this.#limits;
    return new WeirError(
      'WEIR_LIMIT_CPU',
      `${this.#host.plugin} used up its CPU budget in ${fn}: the call ran longer than ${timeoutMs} ms and its worker was terminated (raise limits.timeoutMs if the work is legitimate)`,
      { ...this.#where(fn), limit: 'timeout', timeoutMs },
    );
  }

  /** The error of a call whose worker thread died under it (`process.exit`, an uncaught error). */
  #died(fn: string, exit?: WorkerExit): WeirError {
    this.#state = 'poisoned';
    void this.#worker.terminate();
    const how = exit === undefined ? 'exited' : `exited with code ${exit.code}${exit.reason === undefined ? '' : ` (${exit.reason})`}`;
    return new WeirError(
      'WEIR_PLUGIN_TRAP',
      `the worker thread of ${this.#host.plugin} (node "${this.#host.node}") died during ${fn}: it ${how}; the instance is recreated`,
      { ...this.#where(fn), ...(exit === undefined ? {} : { exitCode: exit.code }) },
    );
  }

  #poison(): void {
    if (this.#state === 'ready') this.#state = 'poisoned';
  }

  /** Poisons the instance and ends its worker, whatever it is doing. */
  #retire(): void {
    if (this.#state !== 'closed') this.#state = 'poisoned';
    void this.#worker.terminate();
  }

  #where(fn: string) {
    return { node: this.#host.node, plugin: this.#host.plugin, function: fn };
  }

  /** The instance shape of `kind`, each method one call into the worker. */
  #as(kind: BlockingKind): PluginInstance {
    const usage = () => this.usage();
    const close = () => this.close();
    /** Ends the guest's session (a source's `close`) while it can still answer, then the worker. */
    const closeSession = (fn: string) => () => {
      try {
        if (this.#state === 'ready') this.invoke<void>(fn, []);
      } finally {
        this.close();
      }
    };
    switch (kind) {
      case 'source':
        return {
          kind,
          open: (config, resumeFrom) => this.invoke<void>('open', [config, resumeFrom]),
          poll: (max) => this.invoke<PollResult>('poll', [max]),
          ack: (position) => this.invoke<void>('ack', [position]),
          close: closeSession('close'),
          usage,
        } satisfies SourceInstance;
      case 'sink':
        return {
          kind,
          open: (config) => this.invoke<void>('open', [config]),
          write: (batch) => this.invoke<void>('write', [batch]),
          flush: () => this.invoke<void>('flush', []),
          close,
          usage,
        } satisfies SinkInstance;
      case 'service':
        return {
          kind,
          configure: (config) => this.invoke<void>('configure', [config]),
          call: (method, payload) => this.invoke<Uint8Array>('call', [method, payload]),
          close,
          usage,
        } satisfies ServiceInstance;
      case 'aggregator':
        return {
          kind,
          configure: (config) => this.invoke<void>('configure', [config]),
          accumulate: (accumulator, record: StreamRecord) => this.invoke<Uint8Array>('accumulate', [accumulator, record]),
          merge: (a, b) => this.invoke<Uint8Array>('merge', [a, b]),
          emit: (key, window, accumulator) => this.invoke<StreamRecord[]>('emit', [key, window, accumulator]),
          close,
          usage,
        } satisfies AggregatorInstance;
    }
  }
}
