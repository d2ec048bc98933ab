// Uncaught exceptions of a JS plugin, made visible to the host.
//
// An exception that escapes an export is not a WIT value, so the component
// traps and the host would only see "unreachable". `host build` wraps every
// export of the plugin with `guardExport`: an exception that is a WIT error
// (`{ tag: 'transient' | 'invalid-input' | 'fatal', val }`) passes as the
// error result it is; any other is first reported to the host (type,
// message and where it was thrown, as a log line the host recognises, see
// host/src/errors/guest-fault.ts), then rethrown, so the call still traps and
// the host recreates the instance, but the trap says why.
import { log } from 'weir:plugin/log@0.1.0';

/** The prefix the host recognises on a fault report (NUL-delimited: no ordinary log line has it). */
export const GUEST_FAULT_MARKER = '\u0000weir:fault\u0000';

const ERROR_TAGS = ['transient', 'invalid-input', 'fatal'];
/** The most stack frames a report names. */
const FRAMES = 3;
/** The most characters of a report (the host cuts at 8192 too). */
const MAX_REPORT = 4096;

/** True when `thrown` is a WIT `error` value, which the component returns as an error result. */
export function isWitError(thrown) {
  return typeof thrown === 'object' && thrown !== null && ERROR_TAGS.includes(thrown.tag);
}

/** One line saying what was thrown and where: `uncaught TypeError: x is undefined (at process (index.js:12:7))`. */
export function describeThrown(thrown) {
  let text;
  if (thrown instanceof Error) {
    const frames = String(thrown.stack ?? '')
      .split('\n')
      .map((line) => line.trim())
      // Frames of the plugin: not this wrapper's, nor the engine's own.
      .filter((line) => line.startsWith('at ') && !line.endsWith('(native)') && !line.includes('guest-errors.js'))
      .slice(0, FRAMES);
    text = `uncaught ${thrown.name || 'Error'}: ${thrown.message}${frames.length > 0 ? ` (${frames.join(' <- ')})` : ''}`;
  } else {
    let shown;
    try {
      shown = typeof thrown === 'string' ? JSON.stringify(thrown) : JSON.stringify(thrown) ?? String(thrown);
    } catch {
      shown = String(thrown);
    }
    text = `uncaught exception (a ${thrown === null ? 'null' : typeof thrown}, not an Error): ${shown}`;
  }
  return text.length > MAX_REPORT ? `${text.slice(0, MAX_REPORT)}… [${text.length - MAX_REPORT} more characters cut]` : text;
}

/**
 * Wraps the export `fn` (named `name`) so that an uncaught exception is
 * reported to the host before the call traps. Returns `fn` itself when it is
 * not a function (the plugin does not export `name`).
 */
export function guardExport(name, fn) {
  if (typeof fn !== 'function') return fn;
  return function guarded(...args) {
    try {
      return fn.apply(this, args);
    } catch (thrown) {
      if (!isWitError(thrown)) {
        try {
          log('error', `${GUEST_FAULT_MARKER}${describeThrown(thrown)} in ${name}`);
        } catch {
          // Reporting is best effort: the trap below happens either way.
        }
      }
      throw thrown;
    }
  };
}
