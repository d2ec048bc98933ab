/**
 * How a guest says why it is about to trap. A wasm trap carries no message
 * ("unreachable"), so the SDKs report the real cause first, as a log line at
 * level `error` that starts with {@link GUEST_FAULT_MARKER}: the JS SDK for an
 * uncaught exception (type, message, where), the Rust SDK from its panic hook
 * (message and `file:line:column`). The loaders route such lines into the
 * instance's {@link GuestFaultSlot} instead of the log, and the call guard
 * puts the fault into the trap's `WEIR_PLUGIN_TRAP` error (message and
 * `details.guest`), from where it reaches logs, dead-letter headers and
 * `host test` output.
 */
import { boundedText } from './bounded-text.js';

/** Prefix of a log line that reports a guest fault (NUL-delimited, so no ordinary log line has it). */
export const GUEST_FAULT_MARKER = '\u0000weir:fault\u0000';

/** The level the SDKs report a fault at; the marker at any other level is ordinary text. */
export const GUEST_FAULT_LEVEL = 'error';

/** Control characters a fault may not carry into logs, headers and terminals (tab and newline stay). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * The fault a log line reports, or `undefined` for an ordinary line: a
 * report is a line at level {@link GUEST_FAULT_LEVEL} whose message starts
 * with the marker (the marker elsewhere, or at another level, is logged as
 * it is, so a plugin cannot pass an ordinary line off as a fault). Control
 * characters (an ANSI escape, say) become U+FFFD: the text is the guest's,
 * shown by `host test` on a terminal and copied into dead-letter headers.
 */
export function guestFaultOf(level: string, message: string): string | undefined {
  return level === GUEST_FAULT_LEVEL && message.startsWith(GUEST_FAULT_MARKER) ? boundedText(message.slice(GUEST_FAULT_MARKER.length).replace(CONTROL, '\uFFFD')) : undefined;
}

/** The last fault one instance reported during the current call. */
export class GuestFaultSlot {
  #fault: string | undefined;

  /** Keeps `fault` (cut to size) until the call ends. */
  report(fault: string): void {
    this.#fault = boundedText(fault);
  }

  /** The reported fault, if any, and clears it. */
  take(): string | undefined {
    const fault = this.#fault;
    this.#fault = undefined;
    return fault;
  }
}
