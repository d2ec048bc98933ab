/**
 * Answers, on the main thread, the synchronous host calls a worker's guest
 * makes (state, call-service; http for callers that may block), shared by
 * both kinds of worker instance.
 */
import { toWireError } from '../../errors/wire.js';
import type { HostContext } from '../../linker/host-context.js';
import type { HostCall, HostReply, WireError } from './protocol.js';

/** Answers `call` with the node's `host` functions, on this thread; `http-send` blocks it (`host.httpSend`). */
export function answerHostCall(host: HostContext, call: HostCall): HostReply {
  const where = { node: host.node, plugin: host.plugin, function: call.op === 'http-send' ? 'http.send' : call.op };
  try {
    const { state } = host;
    switch (call.op) {
      case 'state-get':
        return { ok: true, value: state.get(call.key) };
      case 'state-set':
        state.set(call.key, call.value);
        return { ok: true };
      case 'state-delete':
        state.delete(call.key);
        return { ok: true };
      case 'state-size': {
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, state.size);
        return { ok: true, value };
      }
      case 'call-service':
        return { ok: true, value: host.callService(call.service, call.method, call.payload) };
      case 'http-send':
        return { ok: true, response: host.httpSend(call.request) };
    }
  } catch (error) {
    return { ok: false, error: hostErrorToWire(error, where) };
  }
}

/** Serializes a failed host call for the guest: a `WeirError` as it is, anything else as a fatal plugin error. */
export function hostErrorToWire(error: unknown, where: Record<string, unknown>): WireError {
  return toWireError(error, { code: 'WEIR_PLUGIN_ERROR', details: { ...where, kind: 'fatal' } });
}
