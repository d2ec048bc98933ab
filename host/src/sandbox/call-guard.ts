/**
 * Runs the export calls of one plugin instance and owns its lifecycle state:
 * an `error` result becomes `WEIR_PLUGIN_ERROR` (the instance stays usable),
 * anything else thrown (a wasm trap, an AssemblyScript abort, an uncaught
 * guest exception) becomes `WEIR_PLUGIN_TRAP` and poisons the instance, and
 * calls on a poisoned or closed instance are refused. A call that runs into
 * a limit (its {@link InstanceMeter} says a grow was denied or fuel ran out)
 * becomes `WEIR_LIMIT_MEMORY` or `WEIR_LIMIT_CPU` and poisons the instance;
 * so does a host-side limit a host function threw (`WEIR_LIMIT_STATE`,
 * `WEIR_LIMIT_METRICS`), even when the guest caught the exception (wasm
 * exception handling can) and returned normally.
 * Shared by the component and core-module loaders so both report failures
 * the same way.
 *
 * A trap names the node, and carries what the guest reported just before it
 * (a JS exception or a Rust panic, see errors/guest-fault.ts) in its message
 * and `details.guest`. Guest-controlled text (error results, trap messages)
 * is cut to `MAX_MESSAGE_CHARS`, since every copy of it (log, dead-letter
 * headers) costs its size again.
 */
import type { InstanceState } from '../contract/plugin.js';
import { HOST_LIMIT_CODES } from './meter.js';
import type { InstanceMeter, LimitBreach } from './meter.js';
import { pagesToMiB } from './instrument/instrument.js';
import { maxTableElements } from '../contract/limits.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { boundedText } from '../errors/bounded-text.js';
import { GuestFaultSlot } from '../errors/guest-fault.js';
import type { ErrorCode, ErrorDetails } from '../errors/errors.js';

/** The cases of the WIT `error` variant. */
export type PluginErrorKind = 'transient' | 'invalid-input' | 'fatal';

/** What a loader throws inside {@link CallGuard.run} to report an error result. */
export interface ErrorVariant {
  tag: PluginErrorKind;
  val: string;
}

const ERROR_TAGS: ReadonlySet<string> = new Set(['transient', 'invalid-input', 'fatal']);

/** Failures after which an instance is poisoned: it refuses calls and must be recreated. */
export const POISONING_CODES: readonly ErrorCode[] = ['WEIR_PLUGIN_TRAP', 'WEIR_PLUGIN_BAD_OUTPUT', 'WEIR_LIMIT_MEMORY', 'WEIR_LIMIT_CPU', 'WEIR_LIMIT_STATE', 'WEIR_LIMIT_METRICS'];

/** Guards the calls of one instance. */
export class CallGuard {
  #state: InstanceState = 'ready';
  readonly #node: string;
  readonly #plugin: string;
  readonly meter: InstanceMeter;
  /** Where the loader's log import puts the fault a guest reports before it traps. */
  readonly faults: GuestFaultSlot;

  readonly #onBegin: (() => void) | undefined;

  /**
   * @param faults where the loader's log import puts a fault the guest reports before it traps
   * @param onBegin runs before each call enters the guest (e.g. to reset per-call budgets)
   */
  constructor(node: string, plugin: string, meter: InstanceMeter, faults: GuestFaultSlot = new GuestFaultSlot(), onBegin?: () => void) {
    this.#node = node;
    this.#plugin = plugin;
    this.meter = meter;
    this.faults = faults;
    this.#onBegin = onBegin;
  }

  get state(): InstanceState {
    return this.#state;
  }

  /** Runs `body` as the export `fn`. */
  run<T>(fn: string, body: () => T): T {
    const where = { node: this.#node, plugin: this.#plugin, function: fn };
    if (this.#state === 'poisoned') throw new WeirError('WEIR_PLUGIN_TRAP', `${this.#plugin} cannot be called: the instance is poisoned after a trap`, where);
    if (this.#state === 'closed') throw new WeirError('WEIR_INSTANCE_CLOSED', `${this.#plugin} cannot be called: the instance is closed`, where);
    if (this.#state === 'busy') throw new WeirError('WEIR_PLUGIN_TRAP', `${this.#plugin} was re-entered during ${fn}`, where);
    this.#state = 'busy';
    this.faults.take();
    this.#onBegin?.();
    this.meter.begin();
    let result: T;
    try {
      result = body();
    } catch (error) {
      this.meter.end();
      const breach = this.meter.breach();
      if (breach) {
        this.#state = 'poisoned';
        throw this.#limitError(breach, fn, where, error);
      }
      if (error instanceof WeirError && HOST_LIMIT_CODES.includes(error.code)) {
        this.#state = 'poisoned';
        throw this.#limitError({ kind: 'host', error }, fn, where, error);
      }
      if (error instanceof WeirError && error.code === 'WEIR_LIMIT_OUTPUT') {
        // A fatal one stopped the call half way (while lifting its result): the instance is not reusable.
        this.#state = error.details.kind === 'fatal' ? 'poisoned' : 'ready';
        // The packed-batch decoder does not know the node; name it here.
        throw error.details.node === undefined ? new WeirError(error.code, `${this.#plugin} ${fn}: ${error.message}`, { ...error.details, ...where }, { cause: error }) : error;
      }
      const variant = errorVariantOf(error);
      if (variant) {
        this.#state = 'ready';
        throw new WeirError('WEIR_PLUGIN_ERROR', `${this.#plugin} ${fn} returned ${variant.tag}: ${boundedText(variant.val)}`, { ...where, kind: variant.tag });
      }
      if (error instanceof WeirError && error.code === 'WEIR_PLUGIN_BAD_OUTPUT') {
        this.#state = 'poisoned';
        throw new WeirError(error.code, `${this.#plugin} ${fn}: ${error.message}`, where, { cause: error });
      }
      this.#state = 'poisoned';
      const trap = boundedText(messageOf(error));
      const guest = this.faults.take();
      const message = guest === undefined ? trap : `${guest} (${trap})`;
      throw new WeirError('WEIR_PLUGIN_TRAP', `node "${this.#node}" (${this.#plugin}) trapped in ${fn}: ${message}`, guest === undefined ? where : { ...where, guest }, { cause: error });
    }
    this.meter.end();
    // A limit the guest swallowed (it caught a host function's exception and returned) still ends the call.
    // A denied grow the guest handled (memory.grow and table.grow answer -1) is not one.
    const breach = this.meter.unhandledBreach();
    if (breach) {
      this.#state = 'poisoned';
      throw this.#limitError(breach, fn, where, undefined);
    }
    this.#state = 'ready';
    return result;
  }

  #limitError(breach: LimitBreach, fn: string, where: ErrorDetails, cause: unknown): WeirError {
    const { limits } = this.meter;
    if (breach.kind === 'host') {
      const { error } = breach;
      return new WeirError(error.code, `${this.#plugin} in ${fn}: ${error.message}`, { ...error.details, ...where }, { cause: cause ?? error });
    }
    if (breach.kind === 'fuel') {
      return new WeirError(
        'WEIR_LIMIT_CPU',
        `${this.#plugin} used up its CPU budget in ${fn}: all ${limits.fuel} fuel of one call consumed (raise limits.fuel if the work is legitimate)`,
        { ...where, limit: 'fuel', fuel: String(limits.fuel) },
        { cause },
      );
    }
    if (breach.kind === 'table') {
      const maxElements = maxTableElements(limits.memoryPages);
      return new WeirError(
        'WEIR_LIMIT_MEMORY',
        `${this.#plugin} hit its table cap in ${fn}: growing a table by ${breach.requestedElements} elements was denied (cap ${maxElements} elements per table; raise limits.memoryMb if the plugin needs more)`,
        { ...where, limit: 'table', maxElements, requestedElements: breach.requestedElements },
        { cause },
      );
    }
    return new WeirError(
      'WEIR_LIMIT_MEMORY',
      `${this.#plugin} hit its memory cap in ${fn}: growing by ${breach.requestedPages} pages was denied at ${breach.pages} pages (cap ${limits.memoryPages} pages = ${pagesToMiB(limits.memoryPages)} MiB; raise limits.memoryMb if the plugin needs more)`,
      { ...where, limit: 'memory', capPages: limits.memoryPages, pages: breach.pages, requestedPages: breach.requestedPages },
      { cause },
    );
  }

  /** No further calls are accepted; the meter lets go of the instance's memories. */
  close(): void {
    this.#state = 'closed';
    this.meter.release();
  }
}

/** The error variant carried by a thrown value (directly, or as jco's `payload`), if any. */
function errorVariantOf(thrown: unknown): ErrorVariant | undefined {
  const candidate = (thrown as { payload?: unknown })?.payload ?? thrown;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const { tag, val } = candidate as { tag?: unknown; val?: unknown };
  return typeof tag === 'string' && ERROR_TAGS.has(tag) ? { tag: tag as PluginErrorKind, val: String(val) } : undefined;
}
