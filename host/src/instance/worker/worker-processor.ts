/**
 * A processor instance that runs in a worker thread of its own: in cpu mode
 * `worker` under a watchdog, in modes `fuel` and `none` (with `cpu.thread`
 * `worker`) metered by its own fuel. Calls are asynchronous, so the main
 * thread goes on (other lanes, the source, the sinks) while the worker runs
 * the guest: the instances of a parallel node run on as many cores.
 *
 * Mode `worker`: each call gets `limits.timeoutMs` of wall time; when it
 * runs over, the worker is terminated (V8 stops the guest wherever it is,
 * even in a loop with no calls out) and the call fails with
 * `WEIR_LIMIT_CPU`. Modes `fuel` and `none`: the worker instantiates the
 * module compiled for the same limits as on the main thread (./plugin-worker.ts),
 * so fuel runs out in the worker exactly as it would in-thread, with the
 * same `WEIR_LIMIT_CPU`; there is no watchdog. Either way a failure that
 * poisons the instance poisons it here too; the topology closes it and
 * creates a fresh one, as after a trap.
 *
 * Batches cross as packed buffers (records/batch-codec.ts).
 * {@link WorkerProcessor.processPacked} copies its input once into a buffer
 * it transfers (the caller keeps its batch; a batch in a SharedArrayBuffer is
 * shared instead, not copied); `process` encodes its records into a buffer it
 * transfers. The worker calls the instance's own packed path when it has one
 * and transfers the packed output back. This thread never trusts that output:
 * before it is handed on, its length fields are walked (`WEIR_PLUGIN_BAD_OUTPUT`,
 * which poisons the instance) and its decoded size is checked against
 * `limits.maxOutputBytes` (`WEIR_LIMIT_OUTPUT`), as on the main thread.
 *
 * The guest's synchronous host calls (state, call-service, http) are answered
 * here while the main thread awaits the call; see ./protocol.ts. HTTP requests
 * are sent from here asynchronously, so a slow server holds up only this
 * worker (in mode `worker` its wait counts against `limits.timeoutMs`; in the
 * other modes the grant's own `timeoutMs` bounds it, as in-thread).
 *
 * Lifecycle: `start()` resolves once the worker has loaded the plugin and
 * instantiated it (see ./plugin-worker.ts); `close()` terminates the worker.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { WeirError, messageOf } from '../../errors/errors.js';
import { fromWireError, toWireError } from '../../errors/wire.js';
import { decodeBatch, decodedShape, encodeBatch } from '../../records/batch-codec.js';
import type { StreamRecord } from '../../records/record.js';
import type { HostContext } from '../../linker/host-context.js';
import type { InstanceState, ProcessorInstance } from '../../contract/plugin.js';
import { POISONING_CODES } from '../../sandbox/call-guard.js';
import type { InstanceLimits } from '../../contract/limits.js';
import type { ResourceUsage } from '../../contract/plugin.js';
import { sendRequest } from '../../linker/http/send-request.js';
import { SIGNAL_FINISHED, SIGNAL_REPLY } from './protocol.js';
import type { FromWorker, HostCall, HostReply, ToWorker } from './protocol.js';
import { answerHostCall, hostErrorToWire } from './host-calls.js';
import { forwardTelemetry, startPluginWorker, watchdogOf } from './plugin-worker.js';
import type { PluginWorker, PluginWorkerOptions } from './plugin-worker.js';

/** What {@link WorkerProcessor.start} needs. */
export type WorkerProcessorOptions = Omit<PluginWorkerOptions, 'kind'>;

interface Pending {
  resolve: (output: Uint8Array | undefined) => void;
  reject: (error: WeirError) => void;
  fn: string;
}

/** A processor in a worker thread. */
export class WorkerProcessor implements ProcessorInstance {
  readonly kind = 'processor';
  #state: InstanceState = 'ready';
  readonly #worker: Worker;
  readonly #host: HostContext;
  readonly #limits: InstanceLimits;
  /** Wall-clock budget per call (cpu mode `worker`), or undefined: the worker meters fuel itself. */
  readonly #watchdogMs: number | undefined;
  readonly #hostPort: MessagePort;
  readonly #signal: Int32Array;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #usage: ResourceUsage = { calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 };
  /** When the current call started (the budget HTTP requests must fit in). */
  #callStarted = 0;
  /** Aborts the guest's HTTP requests still in flight when the instance stops. */
  readonly #requests = new AbortController();
  #callMs = 0;

  private constructor({ worker, hostPort, signal }: PluginWorker, options: WorkerProcessorOptions) {
    this.#worker = worker;
    this.#hostPort = hostPort;
    this.#signal = signal;
    this.#host = options.host;
    this.#limits = options.limits;
    this.#watchdogMs = watchdogOf(options.limits);
    this.#listen();
  }

  /** Starts a worker and loads the plugin in it (in mode `worker`, instantiation within `limits.timeoutMs`). */
  static async start(options: WorkerProcessorOptions): Promise<WorkerProcessor> {
    return new WorkerProcessor(await startPluginWorker({ ...options, kind: 'processor' }), options);
  }

  get state(): InstanceState {
    return this.#state;
  }

  async configure(config: string): Promise<void> {
    await this.#call({ type: 'configure', id: 0, config }, 'configure');
  }

  async process(batch: StreamRecord[]): Promise<StreamRecord[]> {
    // The output is checked by processPacked; decoding it again cannot fail on size.
    return decodeBatch(await this.#processPacked(encodeBatch(batch)));
  }

  /**
   * Runs one packed batch in the worker and returns its packed output, once
   * checked (see the module comment). `batch` is copied once, into a buffer
   * handed over to the worker (a `SharedArrayBuffer` is shared, not copied):
   * the caller may keep and reuse it.
   *
   * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` (poisons) when the output is malformed;
   *   `WEIR_LIMIT_OUTPUT` when it is over `limits.maxOutputBytes` decoded; what the call threw.
   */
  processPacked(batch: Uint8Array): Promise<Uint8Array> {
    return this.#processPacked(batch.buffer instanceof SharedArrayBuffer ? batch : batch.slice());
  }

  /** Sends `batch` (owned by this call: transferred unless shared) and checks what comes back. */
  async #processPacked(batch: Uint8Array): Promise<Uint8Array> {
    const output = await this.#call({ type: 'process', id: 0, batch }, 'process');
    return this.#checked(output);
  }

  /** The worker's output, once its format and decoded size are checked here. */
  #checked(output: Uint8Array | undefined): Uint8Array {
    const where = this.#where('process');
    if (!(output instanceof Uint8Array)) return this.#badOutput(new WeirError('WEIR_PLUGIN_BAD_OUTPUT', 'malformed packed batch: the worker returned no buffer'));
    let decodedBytes: number;
    try {
      ({ decodedBytes } = decodedShape(output));
    } catch (error) {
      return this.#badOutput(error);
    }
    const max = this.#limits.maxOutputBytes;
    if (decodedBytes > max) {
      throw new WeirError(
        'WEIR_LIMIT_OUTPUT',
        `${this.#host.plugin} process: output of ${output.byteLength} bytes would take about ${decodedBytes} bytes of host memory decoded, above limits.maxOutputBytes (${max}); emit fewer records or headers per call`,
        { ...where, limit: 'output', bytes: output.byteLength, decodedBytes },
      );
    }
    return output;
  }

  /** Poisons the instance for output this thread cannot read, and throws it named. */
  #badOutput(error: unknown): never {
    if (this.#state === 'ready') this.#state = 'poisoned';
    throw new WeirError('WEIR_PLUGIN_BAD_OUTPUT', `${this.#host.plugin} process: ${messageOf(error)}`, this.#where('process'), { cause: error });
  }

  usage(): ResourceUsage {
    return { ...this.#usage, callMs: this.#callMs };
  }

  close(): void {
    if (this.#state === 'closed') return;
    // A call still running ends now (its watchdog with it), so nothing fires after the close.
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) call.reject(new WeirError('WEIR_INSTANCE_CLOSED', `${this.#host.plugin} was closed during ${call.fn}`, this.#where(call.fn)));
    this.#state = 'closed';
    this.#requests.abort();
    this.#hostPort.close();
    void this.#worker.terminate();
  }

  #listen(): void {
    this.#worker.on('message', (message: FromWorker) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.#abandon(new WeirError('WEIR_PLUGIN_TRAP', `the worker of ${this.#host.plugin} crashed: ${messageOf(error)}`, this.#where('process'))));
    this.#worker.on('exit', () => this.#abandon(new WeirError('WEIR_PLUGIN_TRAP', `the worker of ${this.#host.plugin} exited`, this.#where('process'))));
    this.#hostPort.on('message', (call: HostCall) => this.#answer(call));
  }

  #onMessage(message: FromWorker): void {
    try {
      if (forwardTelemetry(this.#host, message)) return;
    } catch (error) {
      // A metric over the node's caps (WEIR_LIMIT_METRICS) fails the call under way and retires the worker.
      this.#abandon(error instanceof WeirError ? error : new WeirError('WEIR_PLUGIN_TRAP', messageOf(error), this.#where('process')));
      void this.#worker.terminate();
      return;
    }
    switch (message.type) {
      case 'done':
      case 'failed': {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        this.#usage = message.usage;
        if (message.type === 'done') pending.resolve(message.output);
        else pending.reject(fromWireError(message.error));
        return;
      }
      default:
    }
  }

  /** Answers a synchronous host call and wakes the waiting worker. */
  #answer(call: HostCall): void {
    if (call.op === 'http-send') {
      const { node, plugin, capabilities } = this.#host;
      // The request must end before the watchdog does, so the plugin gets a transient error
      // (and onError its retry) rather than being killed as a runaway.
      // In the other modes the grant's own timeout bounds it, as in-thread.
      const watchdogMs = this.#watchdogMs;
      const left = watchdogMs === undefined ? undefined : watchdogMs - (performance.now() - this.#callStarted) - HTTP_MARGIN_MS;
      sendRequest(capabilities.http, call.request, { node, plugin }, {
        timeoutMs: left,
        timeoutReason: `what was left of the call's limits.timeoutMs (${watchdogMs} ms)`,
        signal: this.#requests.signal,
      }).then(
        (response) => this.#reply({ ok: true, response }),
        (error: unknown) => this.#reply({ ok: false, error: hostErrorToWire(error, this.#where('http.send')) }),
      );
      return;
    }
    this.#reply(answerHostCall(this.#host, call));
  }

  #reply(reply: HostReply): void {
    if (this.#state === 'closed') return;
    this.#hostPort.postMessage(reply);
    Atomics.store(this.#signal, SIGNAL_REPLY, 1);
    Atomics.notify(this.#signal, SIGNAL_REPLY);
  }

  #call(message: ToWorker, fn: string): Promise<Uint8Array | undefined> {
    if (this.#state !== 'ready') {
      const why = this.#state === 'poisoned' ? 'is poisoned after a failure' : this.#state === 'busy' ? 'is busy' : 'is closed';
      return Promise.reject(new WeirError(this.#state === 'closed' ? 'WEIR_INSTANCE_CLOSED' : 'WEIR_PLUGIN_TRAP', `${this.#host.plugin} cannot be called: the instance ${why}`, this.#where(fn)));
    }
    this.#state = 'busy';
    const id = this.#nextId++;
    const started = performance.now();
    this.#callStarted = started;
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      const timeoutMs = this.#watchdogMs;
      const watchdog = timeoutMs === undefined ? undefined : setTimeout(() => {
        // On a loaded machine the timer can be served before the result the worker posted in time
        // (a memory breach, say): that result is on its way and says what happened.
        if (Atomics.load(this.#signal, SIGNAL_FINISHED) === id) return;
        if (this.#state === 'closed') return;
        this.#pending.delete(id);
        this.#state = 'poisoned';
        this.#requests.abort();
        this.#callMs += performance.now() - started;
        void this.#worker.terminate();
        reject(new WeirError(
          'WEIR_LIMIT_CPU',
          `${this.#host.plugin} used up its CPU budget in ${fn}: the call ran longer than ${timeoutMs} ms and its worker was terminated (raise limits.timeoutMs if the work is legitimate)`,
          { ...this.#where(fn), limit: 'timeout', timeoutMs },
        ));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(watchdog);
        this.#callMs += performance.now() - started;
      };
      this.#pending.set(id, {
        fn,
        resolve: (output) => {
          settle();
          this.#state = 'ready';
          resolve(output);
        },
        reject: (error) => {
          settle();
          this.#state = POISONING_CODES.includes(error.code) ? 'poisoned' : 'ready';
          reject(error);
        },
      });
      const transfer = message.type === 'process' && !(message.batch.buffer instanceof SharedArrayBuffer) ? [message.batch.buffer] : [];
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Fails every pending call (the worker died). */
  #abandon(error: WeirError): void {
    if (this.#state === 'closed') return;
    this.#state = 'poisoned';
    this.#requests.abort();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #where(fn: string) {
    return { node: this.#host.node, plugin: this.#host.plugin, function: fn };
  }
}

/** Time a plugin keeps, after an HTTP request timed out, to handle the error before the watchdog fires. */
const HTTP_MARGIN_MS = 100;
