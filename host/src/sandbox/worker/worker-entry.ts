/**
 * Runs inside a worker thread: loads one plugin with its own {@link Engine}
 * (the transpile cache on disk makes that quick), instantiates it with a host
 * context whose functions reach the main thread, and serves configure and
 * process calls. If a call runs away, the main thread terminates this thread.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Engine } from '../../engine/engine.js';
import type { CacheWarning } from '../../engine/transpile-cache.js';
import { WeirError, messageOf } from '../../errors/errors.js';
import { decodeBatch, encodeBatch } from '../../records/batch-codec.js';
import type { HostContext } from '../../linker/host-context.js';
import type { KeyedState } from '../../state/keyed-state.js';
import type { ProcessorInstance } from '../plugin.js';
import type { FromWorker, HostCall, HostReply, ToWorker, WireError, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const signal = new Int32Array(setup.signal);
const send = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

function toWire(error: unknown): WireError {
  if (error instanceof WeirError) return { code: error.code, message: error.message, details: error.details };
  return { code: 'WEIR_PLUGIN_TRAP', message: messageOf(error), details: { node: setup.node, plugin: setup.plugin } };
}

/** Sends a host call to the main thread and blocks until it answers. */
function hostCall(call: HostCall): HostReply & { ok: true } {
  Atomics.store(signal, 0, 0);
  setup.hostPort.postMessage(call);
  Atomics.wait(signal, 0, 0);
  const reply = receiveMessageOnPort(setup.hostPort)!.message as HostReply;
  if (!reply.ok) throw new WeirError(reply.error.code, reply.error.message, reply.error.details);
  return reply;
}

const state: KeyedState = {
  get: (key) => hostCall({ op: 'state-get', key }).value,
  set: (key, value) => void hostCall({ op: 'state-set', key, value }),
  delete: (key) => void hostCall({ op: 'state-delete', key }),
  get size() {
    return new DataView(hostCall({ op: 'state-size' }).value!.buffer).getUint32(0);
  },
};

const host: HostContext = {
  node: setup.node,
  plugin: setup.plugin,
  config: setup.config,
  log: (level, message) => send({ type: 'log', level, message }),
  configValue: (key) => (Object.hasOwn(setup.config, key) ? JSON.stringify(setup.config[key]) : undefined),
  state,
  counterAdd: (name, delta) => send({ type: 'counter', name, delta }),
  gaugeSet: (name, value) => send({ type: 'gauge', name, value }),
  callService: (service, method, payload) => hostCall({ op: 'call-service', service, method, payload }).value!,
  now: () => BigInt(Date.now()),
  // The main thread sends it (and checks the grant): only this worker waits.
  httpSend: (request) => hostCall({ op: 'http-send', request }).response!,
  capabilities: setup.capabilities,
};

let instance: ProcessorInstance;
try {
  // Cache write failures go to the main thread's logger (WorkerProcessorOptions.warn), not process.emitWarning.
  const warn: CacheWarning = (details, message) => send({ type: 'cache-warning', details, message });
  const module = await new Engine({ cacheDir: setup.cacheDir, warn }).load(setup.file);
  instance = (await module.instantiate('processor', host, setup.limits)) as ProcessorInstance;
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'setup-failed', error: toWire(error) });
  process.exit(0);
}

port.on('message', async (message: ToWorker) => {
  try {
    if (message.type === 'configure') {
      instance.configure(message.config);
      send({ type: 'done', id: message.id, usage: instance.usage() });
    } else {
      const output = encodeBatch(await instance.process(decodeBatch(message.batch)));
      send({ type: 'done', id: message.id, output, usage: instance.usage() }, [output.buffer as ArrayBuffer]);
    }
  } catch (error) {
    send({ type: 'failed', id: message.id, error: toWire(error), usage: instance.usage() });
  }
});
