/**
 * The one wire form of an error crossing a thread (worker <-> main thread,
 * the HTTP helper thread): `{code, message, details}`, rebuilt as a
 * {@link WeirError} on the other side. Structured clone would drop the class
 * and the code, so every thread boundary goes through these two functions.
 */
import { WeirError, messageOf } from './errors.js';
import type { ErrorCode, ErrorDetails } from './errors.js';

/** A serialized {@link WeirError}. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
}

/**
 * The wire form of any thrown value: a `WeirError` keeps its code, message
 * and details; anything else becomes `fallback.code` with its message and
 * `fallback.details`.
 *
 * @example
 * port.postMessage({ ok: false, error: toWireError(error, { code: 'WEIR_PLUGIN_TRAP', details: { node } }) });
 */
export function toWireError(error: unknown, fallback: { code: ErrorCode; details?: ErrorDetails }): WireError {
  if (error instanceof WeirError) return { code: error.code, message: error.message, details: error.details };
  return { code: fallback.code, message: messageOf(error), details: fallback.details ?? {} };
}

/** Rebuilds the `WeirError` that {@link toWireError} serialized. */
export function fromWireError(wire: WireError): WeirError {
  return new WeirError(wire.code, wire.message, wire.details);
}
