/** The error of a failed plugin instantiation, naming the node. */
import { WeirError, messageOf } from './errors.js';
import { boundedText } from './bounded-text.js';
import type { GuestFaultSlot } from './guest-fault.js';

/**
 * The error of a failed instantiation (a start function that trapped or ran
 * out of fuel, an import that did not link), naming the node in message and
 * details: a `WeirError` keeps its code and details and gains the node;
 * anything else becomes `WEIR_PLUGIN_LOAD_FAILED`, with the fault the guest
 * reported, if any (`details.guest`).
 */
export function instantiationError(error: unknown, where: { node: string; plugin: string }, faults?: GuestFaultSlot): WeirError {
  const { node, plugin } = where;
  if (error instanceof WeirError) {
    if (error.details.node === node && error.message.includes(`"${node}"`)) return error;
    return new WeirError(error.code, `node "${node}" (${plugin}): ${error.message}`, { ...error.details, node, plugin: error.details.plugin ?? plugin }, { cause: error });
  }
  const guest = faults?.take();
  const trap = boundedText(messageOf(error));
  const message = guest === undefined ? trap : `${guest} (${trap})`;
  return new WeirError('WEIR_PLUGIN_LOAD_FAILED', `instantiating ${plugin} for node "${node}" failed: ${message}`, guest === undefined ? { node, plugin } : { node, plugin, guest }, { cause: error });
}
