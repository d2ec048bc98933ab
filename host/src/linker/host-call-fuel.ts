/**
 * Host calls cost fuel. A plugin's own instructions are charged inside the
 * wasm (sandbox/instrument); the work the host does for it (copying a state
 * value, writing a log line, calling a service) runs in JavaScript, where no
 * counter sees it, so a loop of cheap guest instructions around an expensive
 * host call would run for minutes under a small budget. These wrappers put a
 * price on every host function of an import object: {@link FUEL_PER_HOST_CALL}
 * per call plus {@link FUEL_PER_HOST_BYTE} per byte it moves (its arguments
 * and its result; {@link FUEL_PER_LOG_BYTE} for log messages), and hand it
 * to a {@link FuelCharge}, which
 * subtracts it from the instance's fuel and throws `WEIR_LIMIT_CPU` once the
 * budget of the call is spent. The charge for the arguments is taken before
 * the host does the work, so a call the budget cannot pay for does not run.
 *
 * The wrappers also report what a host function throws
 * ({@link HostCallMeter.hostFailed}) and ask before each call whether a
 * host-side limit was already breached in this call
 * ({@link HostCallMeter.refuseAfterBreach}): a guest with wasm exception
 * handling can catch the exception a limit throws, and must not get to go on
 * using the host.
 */

/** Takes `units` of fuel from the calling instance; throws `WEIR_LIMIT_CPU` when the budget is spent. */
export type FuelCharge = (units: bigint) => void;

/** What the wrapped host functions of one instance report to (an {@link InstanceMeter} is one). */
export interface HostCallMeter {
  /** Takes `units` of fuel; throws `WEIR_LIMIT_CPU` when the budget is spent. */
  charge: FuelCharge;
  /** Told about every error a host function threw; keeps the host-side limit ones. */
  hostFailed(error: unknown): void;
  /** Called before each host function runs; throws once a host-side limit was breached in this call. */
  refuseAfterBreach(): void;
}

/** Runs one host function for the guest, under `meter`'s watch. */
function watched<T>(meter: HostCallMeter, run: () => T): T {
  meter.refuseAfterBreach();
  try {
    return run();
  } catch (error) {
    meter.hostFailed(error);
    throw error;
  }
}

/*
 * The prices are measured by `bench/fuel-wall-time.js` so that a unit of fuel
 * spent in host calls takes about as long as one spent in a tight wasm loop
 * (~0.4 ns here): a state read of a small value costs a few microseconds of
 * JavaScript (typed arrays made and copied, a map lookup), a large one about
 * 3-8 ns per byte (allocating and copying the value, and for components
 * lowering it into the guest), and pino takes up to ~100 ns per byte of a log
 * message (escaping).
 */

/** Fuel every host call costs, whatever it moves. */
export const FUEL_PER_HOST_CALL = 20_000n;

/** Fuel per byte a host call moves (arguments in, result out). */
export const FUEL_PER_HOST_BYTE = 16;

/** Fuel per byte of a log message (formatting and escaping by the logger). */
export const FUEL_PER_LOG_BYTE = 256;

/** The fuel a host call moving `bytes` costs beyond {@link FUEL_PER_HOST_CALL}. */
export function fuelForBytes(bytes: number, perByte = FUEL_PER_HOST_BYTE): bigint {
  return BigInt(Math.ceil(bytes)) * BigInt(perByte);
}

/**
 * Bytes a host-call value moves across the boundary, as jco hands them over:
 * strings by length, byte arrays by size, records, lists and tuples by their
 * parts (a part at least 1, so a long list of empty values is not free).
 */
export function hostValueBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value !== 'object' || value === null || depth > 8) return 0;
  let bytes = 0;
  for (const part of Array.isArray(value) ? value : Object.values(value)) bytes += 1 + hostValueBytes(part, depth + 1);
  return bytes;
}

/**
 * Wraps every function of a jco import object (`{interface: {function}}`)
 * so each call is charged by the bytes of its arguments (before it runs)
 * and of its result (after).
 */
export function chargedComponentImports(imports: Record<string, Record<string, unknown>>, meter: HostCallMeter): Record<string, Record<string, unknown>> {
  const charged: Record<string, Record<string, unknown>> = {};
  for (const [name, functions] of Object.entries(imports)) {
    charged[name] = Object.fromEntries(Object.entries(functions).map(([fn, value]) => {
      if (typeof value !== 'function') return [fn, value];
      const host = value as (...args: unknown[]) => unknown;
      const perByte = name.startsWith('weir:plugin/log') ? FUEL_PER_LOG_BYTE : FUEL_PER_HOST_BYTE;
      return [fn, (...args: unknown[]) => watched(meter, () => {
        meter.charge(FUEL_PER_HOST_CALL + fuelForBytes(hostValueBytes(args), perByte));
        const result = host(...args);
        const out = hostValueBytes(result);
        if (out > 0) meter.charge(fuelForBytes(out));
        return result;
      })];
    }));
  }
  return charged;
}

/**
 * How a core-module host function moves bytes: the argument positions that
 * are lengths, whether the result is a length (>= 0, or `-1 - length` for an
 * error message), and for WASI I/O the argument that points at the count of
 * bytes done.
 */
interface CoreCost {
  lengths?: readonly number[];
  /** Fuel per byte of the lengths (default {@link FUEL_PER_HOST_BYTE}). */
  perByte?: number;
  resultIsLength?: boolean;
  doneAt?: number;
}

/** The core-module ABI's host functions (sdk/assemblyscript/ABI.md) and the WASI preview 1 ones that move data. */
const CORE_COSTS: Readonly<Record<string, Readonly<Record<string, CoreCost>>>> = {
  weir: {
    log: { lengths: [2], perByte: FUEL_PER_LOG_BYTE },
    config_get: { lengths: [1], resultIsLength: true },
    state_get: { lengths: [1], resultIsLength: true },
    state_set: { lengths: [1, 3] },
    state_delete: { lengths: [1] },
    counter_add: { lengths: [1] },
    gauge_set: { lengths: [1] },
    call_service: { lengths: [1, 3, 5], resultIsLength: true },
    http_send: { lengths: [1], resultIsLength: true },
  },
  wasi_snapshot_preview1: {
    random_get: { lengths: [1] },
    fd_read: { doneAt: 3 },
    fd_write: { doneAt: 3 },
    fd_pread: { doneAt: 4 },
    fd_pwrite: { doneAt: 4 },
    fd_readdir: { lengths: [2] },
    path_open: { lengths: [3] },
  },
};

/**
 * Wraps every function of a core module's import object so each call is
 * charged: {@link FUEL_PER_HOST_CALL}, plus the bytes its length arguments
 * name (before it runs) and the bytes it returned or, for WASI reads and
 * writes, did (after). `memory` is read once the instance exists.
 */
export function chargedCoreImports<T extends Record<string, Record<string, unknown>>>(imports: T, meter: HostCallMeter, memory: () => WebAssembly.Memory | undefined): T {
  const charged: Record<string, Record<string, unknown>> = {};
  for (const [module, functions] of Object.entries(imports)) {
    charged[module] = Object.fromEntries(Object.entries(functions).map(([fn, value]) => {
      if (typeof value !== 'function') return [fn, value];
      const host = value as (...args: number[]) => unknown;
      const cost = CORE_COSTS[module]?.[fn] ?? {};
      return [fn, (...args: number[]) => watched(meter, () => {
        let bytes = 0;
        for (const at of cost.lengths ?? []) bytes += Math.max(0, Number(args[at] ?? 0));
        meter.charge(FUEL_PER_HOST_CALL + fuelForBytes(bytes, cost.perByte));
        const result = host(...args);
        let out = 0;
        if (cost.resultIsLength && typeof result === 'number') out = result >= 0 ? result : -1 - result;
        if (cost.doneAt !== undefined && result === 0) out = doneBytes(memory(), args[cost.doneAt]);
        if (out > 0) meter.charge(fuelForBytes(out));
        return result;
      })];
    }));
  }
  return charged as T;
}

/** The u32 count of bytes a WASI call wrote at `pointer`, or 0 when it cannot be read. */
function doneBytes(memory: WebAssembly.Memory | undefined, pointer: number | undefined): number {
  if (!memory || pointer === undefined || pointer < 0 || pointer + 4 > memory.buffer.byteLength) return 0;
  return new DataView(memory.buffer).getUint32(pointer, true);
}
